// Histogram percentiles against a brute-force sort of the same samples.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../../common/hist.h"

static int failures;

static void check(bool ok, const char *what, double got, double want) {
    if (!ok) {
        printf("FAIL %s: got %.3f want %.3f\n", what, got, want);
        failures++;
    }
}

static uint64_t exact_quantile(std::vector<uint64_t> v, double q) {
    std::sort(v.begin(), v.end());
    size_t rank = (size_t)std::ceil(q * (double)v.size());
    if (rank == 0) rank = 1;
    return v[rank - 1];
}

// print_percentiles on 1..100 (exact buckets), line by line against what
// HdrHistogram_c's hdr_percentiles_print writes for the same samples.
static void check_hgrm() {
    Histogram h;
    for (uint64_t v = 1; v <= 100; v++) h.add(v);
    char *text = nullptr;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    check(h.print_percentiles(f, 1.0), "hgrm write", 0, 1);
    fclose(f);
    const char *want_head = "       Value   Percentile   TotalCount 1/(1-Percentile)\n\n"
                            "       1.000     0.000000            1         1.00\n"
                            "      10.000     0.100000           10         1.11\n"
                            "      20.000     0.200000           20         1.25\n";
    check(strncmp(text, want_head, strlen(want_head)) == 0, "hgrm header and first rows", 0, 1);
    // The percentiles HdrHistogram steps through, 5 ticks per half distance.
    const double want_p[] = {0, .1, .2, .3, .4, .5, .55, .6, .65, .7, .75, .775, .8, .825, .85,
                             .875, .8875, .9, .9125, .925, .9375, .94375, .95, .95625};
    char *line = strstr(text, "\n\n") + 2;
    int rows = 0;
    double last_p = -1;
    unsigned long long last_n = 0;
    for (; line && *line && *line != '#'; line = strchr(line, '\n') + 1, rows++) {
        double v, p, inv;
        unsigned long long n;
        if (sscanf(line, "%lf %lf %llu %lf", &v, &p, &n, &inv) != 4) {
            if (strncmp(line, "     100.000     1.000000          100          inf\n", 52) == 0) {
                last_p = 1.0;
                continue;
            }
            check(false, "hgrm row parses", rows, 0);
            break;
        }
        if (rows < (int)(sizeof want_p / sizeof *want_p))
            check(fabs(p - want_p[rows]) < 1e-9, "hgrm percentile step", p, want_p[rows]);
        // Exact buckets: the value at percentile p is the ceil(p*100)-th sample.
        check(v == std::max(1.0, std::ceil(p * 100 - 1e-9)), "hgrm row value", v, p * 100);
        check(p > last_p && n >= last_n, "hgrm rows increase", p, last_p);
        last_p = p;
        last_n = n;
    }
    check(last_p == 1.0, "hgrm last row at 1.0 with the total count", last_p, 1.0);
    const char *want_foot = "#[Mean    =       50.500, StdDeviation   =       28.866]\n"
                            "#[Max     =      100.000, Total count    =          100]\n"
                            "#[Buckets =           58, SubBuckets     =          128]\n";
    check(line && strcmp(line, want_foot) == 0, "hgrm footer", 0, 1);
    if (line && strcmp(line, want_foot) != 0) printf("footer:\n%s", line);
    free(text);
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd() {  // xorshift64: deterministic, no libc state
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void compare(const char *name, const std::vector<uint64_t> &samples) {
    Histogram h;
    for (uint64_t s : samples) h.add(s);
    const double qs[] = {0.0, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0};
    for (double q : qs) {
        double want = (double)exact_quantile(samples, q);
        double got = (double)h.quantile(q);
        char what[64];
        snprintf(what, sizeof what, "%s q=%.3f", name, q);
        check(std::fabs(got - want) <= 0.01 * want, what, got, want);
    }
    check(h.count() == samples.size(), "count", (double)h.count(), (double)samples.size());
    check(h.min() == *std::min_element(samples.begin(), samples.end()), "min", (double)h.min(), 0);
    check(h.max() == *std::max_element(samples.begin(), samples.end()), "max", (double)h.max(), 0);
}

int main() {
    // Every bucket boundary maps back to itself, and buckets stay within 1/64 wide.
    for (int i = 0; i + 1 < Histogram::kBuckets; i++) {
        uint64_t lo = Histogram::lower(i), hi = Histogram::lower(i + 1);
        if (Histogram::index_of(lo) != i || Histogram::index_of(hi - 1) != i || hi <= lo) {
            printf("FAIL bucket %d: [%llu, %llu)\n", i, (unsigned long long)lo, (unsigned long long)hi);
            failures++;
            break;
        }
        if (i >= 128 && (double)(hi - lo) > (double)lo / 64.0) {
            printf("FAIL bucket %d too wide\n", i);
            failures++;
            break;
        }
    }
    std::vector<uint64_t> uniform, lognormal, small, bimodal;
    for (int i = 0; i < 200000; i++) uniform.push_back(1000 + rnd() % 10000000);
    for (int i = 0; i < 200000; i++) {
        // a long-tailed spread over six decades, like real latencies
        double e = 3.0 + 6.0 * (double)(rnd() % 1000000) / 1e6;
        e = e * e / 9.0;
        lognormal.push_back((uint64_t)std::pow(10.0, e));
    }
    for (int i = 0; i < 1000; i++) small.push_back(rnd() % 200);
    for (int i = 0; i < 100000; i++) bimodal.push_back(i % 100 ? 20000 + rnd() % 5000 : 900000000 + rnd() % 100000000);
    compare("uniform", uniform);
    compare("longtail", lognormal);
    compare("small", small);
    compare("bimodal", bimodal);
    compare("single", std::vector<uint64_t>{123456789});

    // Merging equals adding everything to one histogram.
    Histogram a, b, all;
    for (size_t i = 0; i < uniform.size(); i++) (i % 3 ? a : b).add(uniform[i]), all.add(uniform[i]);
    a.merge(b);
    for (double q : {0.5, 0.99, 0.999})
        check(a.quantile(q) == all.quantile(q), "merge", (double)a.quantile(q), (double)all.quantile(q));
    Histogram empty;
    check(empty.quantile(0.5) == 0 && empty.count() == 0, "empty", (double)empty.quantile(0.5), 0);

    check_hgrm();

    printf("%s\n", failures ? "unit_hist: FAILED" : "unit_hist: ok");
    return failures ? 1 : 0;
}
