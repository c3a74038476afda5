// What the report's C++ tests share (unit_report, fuzz_report): the report as
// cli_flood prints it, and the first way two histograms differ.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <initializer_list>

#include "../../cli/flood.h"

// The report as cli_flood writes it, text or (json) JSON; free() it.
inline char *printed_report(const Report &r, bool json) {
    char *buf = nullptr;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    print_report(f, r, json);
    fclose(f);
    return buf;
}

// The first thing that differs between a and b (counts, extremes, sum, buckets,
// quantiles), or null.
inline const char *hist_differs(const Histogram &a, const Histogram &b) {
    if (a.count() != b.count()) return "count";
    if (a.min() != b.min()) return "min";
    if (a.max() != b.max()) return "max";
    if (a.sum() != b.sum()) return "sum";
    for (int i = 0; i < Histogram::kBuckets; i++)
        if (a.bucket(i) != b.bucket(i)) return "a bucket";
    for (double q : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0})
        if (a.quantile(q) != b.quantile(q)) return "a quantile";
    return nullptr;
}
