// Log-linear latency histogram: constant memory (30 KiB), <= 1% relative error.
// Values below 128 are exact; above, each power of two is split into 64 equal
// buckets, so a bucket is at most 1/64 of its value wide and its midpoint is
// within 1/128 of any value in it.
//
// That is HdrHistogram's layout with a unit of 1 and 128 sub-buckets: a first
// bucket of 128 values, then one bucket per power of two of 64 sub-buckets, 58
// buckets to cover 2^64. print_percentiles() writes what HdrHistogram_c's
// hdr_percentiles_print (CLASSIC) writes, so its tools read our figures.
#pragma once
#include <cstdint>
#include <cstdio>

class Histogram {
  public:
    static constexpr int kSubBits = 6;
    static constexpr int kBuckets = 128 + (63 - kSubBits) * 64;
    // The same in HdrHistogram's terms, as its footer names them.
    static constexpr int kHdrBuckets = 58, kHdrSubBuckets = 128;
    static_assert(kBuckets == (kHdrBuckets + 1) * kHdrSubBuckets / 2, "HdrHistogram layout");

    void add(uint64_t v);
    void merge(const Histogram &o);
    uint64_t count() const { return count_; }
    uint64_t min() const { return count_ ? min_ : 0; }
    uint64_t max() const { return max_; }
    uint64_t sum() const { return sum_; }
    double mean() const { return count_ ? (double)sum_ / (double)count_ : 0.0; }
    // Value at quantile q in [0, 1]: the bucket midpoint, clamped to [min, max].
    uint64_t quantile(double q) const;

    // Bucket i covers [lower(i), lower(i+1)).
    static int index_of(uint64_t v);
    static uint64_t lower(int i);
    static uint64_t upper(int i);  // the highest value bucket i holds
    uint64_t bucket(int i) const { return b_[i]; }
    // Raw restore, for merging reports read back from JSON.
    void add_bucket(int i, uint64_t n, uint64_t lo_seen, uint64_t hi_seen, uint64_t sum);

    // The percentile distribution, values divided by scale (1000: ns to us): rows at
    // 5 ticks per half distance to 100%, then Mean, StdDeviation (from the bucket
    // midpoints), Max and the bucket layout. A row's value is the highest its
    // bucket holds, no higher than the largest value recorded. False on a write error.
    bool print_percentiles(FILE *out, double scale) const;

  private:
    uint64_t b_[kBuckets] = {};
    uint64_t count_ = 0, sum_ = 0, min_ = UINT64_MAX, max_ = 0;
};
