// cli_flood's JSON report read back and merged equals one report over all samples.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "../../cli/flood.h"

static int failures;

static void check(bool ok, const char *what) {
    if (!ok) {
        printf("FAIL %s\n", what);
        failures++;
    }
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd() {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

// The report as JSON text, as cli_flood --json writes it.
static char *to_json(const Report &r) {
    char *buf = nullptr;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    print_report(f, r, true);
    fclose(f);
    return buf;
}

static bool same_hist(const Histogram &a, const Histogram &b) {
    if (a.count() != b.count() || a.min() != b.min() || a.max() != b.max() || a.sum() != b.sum())
        return false;
    for (int i = 0; i < Histogram::kBuckets; i++)
        if (a.bucket(i) != b.bucket(i)) return false;
    for (double q : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0})
        if (a.quantile(q) != b.quantile(q)) return false;
    return true;
}

static Report a, b, all, ra, rb;  // histograms are 30 KiB each: not on the stack

int main() {
    a.held = b.held = all.held = true;
    a.rate = b.rate = 1000;
    all.rate = 2000;
    strcpy(a.target, "127.0.0.1:9000");
    strcpy(b.target, "127.0.0.1:9000");
    strcpy(all.target, "127.0.0.1:9000");
    for (int i = 0; i < 300000; i++) {
        // long-tailed latencies: mostly 10 us .. 2 ms, one in a thousand up to 3 s
        uint64_t v = 10000 + (rnd() % 1000 == 0 ? rnd() % 3000000000ull : rnd() % 2000000);
        uint64_t s = v / 2 + rnd() % (v / 2);
        Report &r = i % 3 ? a : b;
        r.latency.add(v);
        r.service.add(s);
        r.succeeded++;
        all.latency.add(v);
        all.service.add(s);
        all.succeeded++;
    }
    a.failed = 7, a.failures[F_RESET] = 7, b.failed = 2, b.failures[F_READ_TIMEOUT] = 2;
    all.failed = 9, all.failures[F_RESET] = 7, all.failures[F_READ_TIMEOUT] = 2;
    a.requests = (long long)(a.succeeded + a.failed), b.requests = (long long)(b.succeeded + b.failed);
    all.requests = a.requests + b.requests;
    a.concurrency = b.concurrency = 100, all.concurrency = 200;
    a.connections = b.connections = 100, all.connections = 200;
    a.peak_open = b.peak_open = 100, all.peak_open = 200;
    a.requests_per_s = 1000, b.requests_per_s = 999, all.requests_per_s = 1999;
    a.per_conn = b.per_conn = all.per_conn = 0;
    a.duration_s = b.duration_s = all.duration_s = 10;
    a.wall_s = 10.5, b.wall_s = 10.25, all.wall_s = 10.5;
    a.connect_s = 0.25, b.connect_s = 0.5, all.connect_s = 0.5;
    all.reports = 2;
    // Held connections lost, by cause: they survive JSON and add up like requests.
    a.connect_failed = 3, a.connect_failures[F_REFUSED] = 3;
    a.dropped = 5, a.drops[F_RESET] = 4, a.drops[F_CLOSED_EARLY] = 1;
    b.dropped = 2, b.drops[F_CLOSED_EARLY] = 2;
    all.connect_failed = 3, all.connect_failures[F_REFUSED] = 3;
    all.dropped = 7, all.drops[F_RESET] = 4, all.drops[F_CLOSED_EARLY] = 3;

    char err[160];
    char *ja = to_json(a), *jb = to_json(b);
    check(parse_report(ja, &ra, err, sizeof err), err);
    check(parse_report(jb, &rb, err, sizeof err), err);
    check(same_hist(ra.latency, a.latency), "latency histogram survives JSON");
    check(same_hist(ra.service, a.service), "service histogram survives JSON");
    check(ra.dropped == 5 && ra.drops[F_RESET] == 4 && ra.drops[F_CLOSED_EARLY] == 1,
          "dropped connections and their causes survive JSON");
    check(ra.connect_failed == 3 && ra.connect_failures[F_REFUSED] == 3 && !ra.drops[F_REFUSED],
          "connect failures and their causes survive JSON, apart from drops");
    static Report held_ok;
    held_ok.held = true, held_ok.succeeded = 10;
    check(!report_lost(held_ok), "a held run that lost nothing is no loss");
    held_ok.dropped = 1;
    check(report_lost(held_ok), "one dropped connection, no failed request: a loss");
    held_ok.dropped = 0, held_ok.connect_failed = 1;
    check(report_lost(held_ok), "one connection that could not connect: a loss");
    merge_report(&ra, rb);
    check(same_hist(ra.latency, all.latency), "merged latency equals one histogram of all samples");
    check(same_hist(ra.service, all.service), "merged service equals one histogram of all samples");
    char *jm = to_json(ra), *jall = to_json(all);
    if (strcmp(jm, jall) != 0) printf("merged:   %s\nexpected: %s\n", jm, jall);
    check(strcmp(jm, jall) == 0, "merged report prints as the report of all samples");

    // -i --json writes JSON Lines, the report last: --merge reads that line.
    static Report rl, rplain;
    char *lines = nullptr;
    size_t llen = 0;
    FILE *lf = open_memstream(&lines, &llen);
    fprintf(lf, "{\"type\":\"interval\",\"t_s\":1.000,\"completed\":5,\"latency_us\":{\"p50\":1.0}}\n"
                "{\"type\":\"interval\",\"t_s\":2.000,\"completed\":7,\"latency_us\":{\"p50\":2.0}}\n%s", ja);
    fclose(lf);
    check(report_line(lines) == strstr(lines, ja), "JSON Lines: the report is the last line");
    check(report_line(ja) == ja, "a plain report is read whole");
    check(parse_report(report_line(lines), &rl, err, sizeof err) && parse_report(ja, &rplain, err, sizeof err),
          "JSON Lines parse");
    char *jl = to_json(rl), *jp = to_json(rplain);
    check(strcmp(jl, jp) == 0, "JSON Lines read as their last line alone");
    free(lines), free(jl), free(jp);
    // --hgrm after --merge: the percentile distribution of all the samples.
    char *hm = nullptr, *hall = nullptr;
    size_t hmlen = 0, halllen = 0;
    FILE *fm = open_memstream(&hm, &hmlen), *fall = open_memstream(&hall, &halllen);
    check(ra.latency.print_percentiles(fm, 1000.0) && all.latency.print_percentiles(fall, 1000.0),
          "hgrm written");
    fclose(fm), fclose(fall);
    check(strcmp(hm, hall) == 0 && strstr(hm, "Total count    =       300000]"),
          "hgrm of the merged report is that of all samples");
    free(hm), free(hall);

    // Damaged input is refused with a reason, never half-read: the report it was to
    // fill is what it was before, byte for byte (its JSON, histograms included).
    char *before = to_json(ra);
    ja[strlen(ja) / 2] = '\0';
    check(!parse_report(ja, &ra, err, sizeof err) && err[0], "truncated report refused");
    check(!parse_report("{\"succeeded\":5}", &ra, err, sizeof err), "report without histogram refused");
    check(!parse_report("{\"succeeded\":1,\"histogram\":{\"count\":2,\"buckets\":[[5,1]]}}", &ra, err,
                        sizeof err),
          "histogram count mismatch refused");
    check(!parse_report("{\"connections\":1,\"dropped\":2}", &ra, err, sizeof err) &&
              !strncmp(err, "more connections dropped than connected", 39),
          "more dropped than connected refused");
    char *after = to_json(ra);
    check(strcmp(before, after) == 0, "a refused report leaves the target report untouched");
    free(before), free(after);
    free(ja), free(jb), free(jm), free(jall);
    printf("%s\n", failures ? "unit_report: FAILED" : "unit_report: ok");
    return failures ? 1 : 0;
}
