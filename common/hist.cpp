#include "hist.h"

int Histogram::index_of(uint64_t v) {
    if (v < 128) return (int)v;
    int msb = 63 - __builtin_clzll(v);  // >= 7
    int shift = msb - kSubBits;
    int sub = (int)(v >> shift) - 64;   // 0..63
    return 128 + (msb - 7) * 64 + sub;
}

uint64_t Histogram::lower(int i) {
    if (i < 128) return (uint64_t)i;
    int msb = (i - 128) / 64 + 7;
    int sub = (i - 128) % 64 + 64;
    return (uint64_t)sub << (msb - kSubBits);
}

void Histogram::add(uint64_t v) {
    b_[index_of(v)]++;
    count_++;
    sum_ += v;
    if (v < min_) min_ = v;
    if (v > max_) max_ = v;
}

void Histogram::merge(const Histogram &o) {
    for (int i = 0; i < kBuckets; i++) b_[i] += o.b_[i];
    count_ += o.count_;
    sum_ += o.sum_;
    if (o.count_ && o.min_ < min_) min_ = o.min_;
    if (o.max_ > max_) max_ = o.max_;
}

void Histogram::add_bucket(int i, uint64_t n, uint64_t lo_seen, uint64_t hi_seen, uint64_t sum) {
    if (i < 0 || i >= kBuckets || n == 0) return;
    b_[i] += n;
    count_ += n;
    sum_ += sum;
    if (lo_seen < min_) min_ = lo_seen;
    if (hi_seen > max_) max_ = hi_seen;
}

uint64_t Histogram::quantile(double q) const {
    if (count_ == 0) return 0;
    if (q <= 0) return min();
    if (q >= 1) return max_;
    // rank of the sample wanted, 1-based, nearest-rank definition
    uint64_t rank = (uint64_t)(q * (double)count_);
    if ((double)rank < q * (double)count_) rank++;
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; i++) {
        seen += b_[i];
        if (seen >= rank) {
            uint64_t lo = lower(i);
            uint64_t mid = i < 128 || i + 1 == kBuckets ? lo : lo + (lower(i + 1) - lo) / 2;
            if (mid < min_) mid = min_;
            if (mid > max_) mid = max_;
            return mid;
        }
    }
    return max_;
}
