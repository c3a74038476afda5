#include "hist.h"

#include <cmath>

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

uint64_t Histogram::upper(int i) { return i + 1 < kBuckets ? lower(i + 1) - 1 : UINT64_MAX; }

namespace {

// The next percentile (in percent) to report after p: each halving of the distance
// to 100% gets `ticks` rows, HdrHistogram's percentile iteration.
double next_percentile(double p, int ticks) {
    int64_t halvings = (int64_t)(log(100.0 / (100.0 - p)) / log(2.0)) + 1;
    return p + 100.0 / ((double)ticks * (double)((int64_t)1 << halvings));
}

}  // namespace

bool Histogram::print_percentiles(FILE *out, double scale) const {
    constexpr int kTicksPerHalf = 5;
    int ok = fprintf(out, "%12s %12s %12s %12s\n\n", "Value", "Percentile", "TotalCount",
                     "1/(1-Percentile)") > 0;
    auto row = [&](uint64_t v, double percent, uint64_t seen) {
        double p = percent / 100.0;
        ok &= fprintf(out, "%12.3f %12f %12llu %12.2f\n", (double)v / scale, p,
                      (unsigned long long)seen, 1.0 / (1.0 - p)) > 0;
    };
    double want = 0.0, var = 0.0, avg = mean();
    uint64_t seen = 0, last = 0;
    for (int i = 0; i < kBuckets && seen < count_; i++) {
        if (!b_[i]) continue;
        seen += b_[i];
        last = upper(i) < max_ ? upper(i) : max_;
        double reached = 100.0 * (double)seen / (double)count_;
        // The bucket that completes the count gets one row; the 100% row follows.
        while (want <= reached && want < 100.0) {
            row(last, want, seen);
            if (seen == count_) break;
            want = next_percentile(want, kTicksPerHalf);
        }
        uint64_t mid = i < 128 ? lower(i) : lower(i) + (upper(i) - lower(i) + 1) / 2;
        var += ((double)mid - avg) * ((double)mid - avg) * (double)b_[i];
    }
    row(last, 100.0, seen);
    double sd = count_ ? sqrt(var / (double)count_) : 0.0;
    ok &= fprintf(out, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n"
                  "#[Max     = %12.3f, Total count    = %12llu]\n"
                  "#[Buckets = %12d, SubBuckets     = %12d]\n",
                  avg / scale, sd / scale, (double)max_ / scale, (unsigned long long)count_,
                  kHdrBuckets, kHdrSubBuckets) > 0;
    return ok;
}
