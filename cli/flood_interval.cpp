// cli_flood -i: one record per interval. The runs keep one cumulative report; a
// record is what it gained since the last record: counts by subtraction, the
// percentiles from the difference of the two histograms (so to its resolution,
// 1/64 of the value). With -w, each worker writes its own records, marked by its
// number: the counts of all workers add up, the percentiles are each worker's.
#include <cstring>

#include "flood.h"

namespace {

const Options *g_opt;        // null: no -i, or not this process's job
uint64_t g_start, g_last, g_next, g_step;
uint64_t g_done, g_failed;   // the report's counts at the last record
Histogram g_seen;            // and its histogram

double us(uint64_t ns) { return (double)ns / 1000.0; }

void record(const Report &r, uint64_t now) {
    static Histogram got;  // 30 KiB: not on the stack
    got = Histogram{};
    const Histogram &h = r.latency;
    for (int i = 0; i < Histogram::kBuckets; i++) {
        uint64_t n = h.bucket(i) - g_seen.bucket(i);
        if (!n) continue;
        uint64_t hi = Histogram::upper(i) < h.max() ? Histogram::upper(i) : h.max();
        got.add_bucket(i, n, Histogram::lower(i), hi, 0);
    }
    uint64_t done = r.succeeded - g_done, failed = r.failed - g_failed;
    double t = (double)(now - g_start) / 1e9, span = (double)(now - g_last) / 1e9;
    double rate = span > 0 ? (double)done / span : 0;
    char worker[32] = "";
    if (g_opt->progress) fputs("\r\033[K", stderr);  // the progress line is redrawn after
    if (g_opt->json) {
        if (g_opt->worker_count > 1) snprintf(worker, sizeof worker, "\"worker\":%d,", g_opt->worker_index);
        printf("{\"type\":\"interval\",%s\"t_s\":%.3f,\"interval_s\":%.3f,\"completed\":%llu,"
               "\"failed\":%llu,\"requests_per_s\":%.1f,\"latency_us\":{\"p50\":%.1f,"
               "\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f}}\n", worker, t, span,
               (unsigned long long)done, (unsigned long long)failed, rate, us(got.quantile(0.5)),
               us(got.quantile(0.99)), us(got.quantile(0.999)), us(got.max()));
    } else {
        if (g_opt->worker_count > 1) snprintf(worker, sizeof worker, "  worker %d", g_opt->worker_index);
        printf("interval %8.3f s%s  completed %llu  failed %llu  rate %.0f/s  p50 %.1f  p99 %.1f"
               "  max %.1f us\n", t, worker, (unsigned long long)done, (unsigned long long)failed,
               rate, us(got.quantile(0.5)), us(got.quantile(0.99)), us(got.max()));
    }
    fflush(stdout);  // one write a line: workers share stdout
    g_seen = h;
    g_done = r.succeeded;
    g_failed = r.failed;
    g_last = now;
}

}  // namespace

void interval_begin(const Options &o, uint64_t now) {
    if (!o.interval_s) return;
    g_opt = &o;
    g_step = (uint64_t)o.interval_s * 1000000000u;
    g_start = g_last = now;
    g_next = now + g_step;
}

bool interval_due(uint64_t now) { return g_opt && now >= g_next; }

void interval_record(const Report &so_far, uint64_t now) {
    record(so_far, now);
    // On the interval grid: a late record does not shift the ones after it.
    while (g_next <= now) g_next += g_step;
}

void interval_end(const Report &final_report, uint64_t now) {
    if (g_opt && (now - g_last >= 1000000 || final_report.succeeded != g_done || final_report.failed != g_failed))
        record(final_report, now);
    g_opt = nullptr;
}

const char *report_line(const char *text) {
    if (!strstr(text, "\"type\":\"interval\"")) return text;
    const char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\r')) end--;
    const char *line = end;
    while (line > text && line[-1] != '\n') line--;
    return line;
}
