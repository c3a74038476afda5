// cli_flood's report: the failure causes, text, JSON with the whole histograms, and
// the merge of reports (flood_parse.cpp reads them back).
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "flood.h"

const char *const kFailureName[F_COUNT] = {
    "refused", "connect_timeout", "reset", "read_timeout", "closed_early", "mismatch",
    "no_ports", "no_descriptors", "other", "interrupted", "http_status",
};

Failure classify(int err, bool connecting) {
    switch (err) {
    case ECONNREFUSED: return F_REFUSED;
    case ECONNRESET: return F_RESET;
    case EPIPE: return F_CLOSED_EARLY;
    case ETIMEDOUT: case EAGAIN: case EINPROGRESS:
        return connecting ? F_CONNECT_TIMEOUT : F_READ_TIMEOUT;
    case EADDRNOTAVAIL: case EADDRINUSE: return F_NO_PORTS;
    case EMFILE: case ENFILE: case ENOBUFS: case ENOMEM: return F_NO_FDS;
    default: return F_OTHER;
    }
}

bool report_lost(const Report &r) { return r.failed || r.connect_failed || r.dropped; }

namespace {

double us(uint64_t ns) { return (double)ns / 1000.0; }

void json_latency(FILE *out, const char *key, const Histogram &h) {
    fprintf(out, "\"%s\":{\"min\":%.1f,\"avg\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
            "\"p999\":%.1f,\"max\":%.1f}", key,
            us(h.min()), h.mean() / 1000.0, us(h.quantile(0.5)), us(h.quantile(0.9)),
            us(h.quantile(0.99)), us(h.quantile(0.999)), us(h.max()));
}

// Non-empty buckets as [lower bound, count], in nanoseconds; the bound, not the
// index, so a reader with other bucket widths can still place the counts.
void json_histogram(FILE *out, const char *key, const Histogram &h) {
    fprintf(out, "\"%s\":{\"unit\":\"ns\",\"count\":%llu,\"min\":%llu,\"max\":%llu,\"sum\":%llu,"
            "\"buckets\":[", key, (unsigned long long)h.count(), (unsigned long long)h.min(),
            (unsigned long long)h.max(), (unsigned long long)h.sum());
    bool first = true;
    for (int i = 0; i < Histogram::kBuckets; i++) {
        if (!h.bucket(i)) continue;
        fprintf(out, "%s[%llu,%llu]", first ? "" : ",", (unsigned long long)Histogram::lower(i),
                (unsigned long long)h.bucket(i));
        first = false;
    }
    fprintf(out, "]}");
}

void text_latency(FILE *out, const char *label, const Histogram &h) {
    fprintf(out, "  %s  min %.1f  avg %.1f  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
            label, us(h.min()), h.mean() / 1000.0, us(h.quantile(0.5)), us(h.quantile(0.9)),
            us(h.quantile(0.99)), us(h.quantile(0.999)), us(h.max()));
}

// "key":{"refused":0,...}: a count per failure cause.
void json_causes(FILE *out, const char *key, const uint64_t *n) {
    fprintf(out, "\"%s\":{", key);
    for (int i = 0; i < F_COUNT; i++)
        fprintf(out, "%s\"%s\":%llu", i ? "," : "", kFailureName[i], (unsigned long long)n[i]);
    fprintf(out, "}");
}

void text_causes(FILE *out, const uint64_t *n) {
    for (int i = 0; i < F_COUNT; i++)
        if (n[i]) fprintf(out, " %s %llu", kFailureName[i], (unsigned long long)n[i]);
}

uint64_t held_through(const Report &r) { return r.connections - r.dropped; }

// A held run's figures, or a report read back that has some: what it holds, it prints.
bool has_held_figures(const Report &r) {
    if (r.held || r.dropped) return true;
    for (int i = 0; i < F_COUNT; i++)
        if (r.connect_failures[i] || r.drops[i]) return true;
    return false;
}

// Bytes a second over the traffic's time: a held run's connect phase left out.
double per_s(const Report &r, uint64_t bytes) {
    double t = r.held ? r.wall_s - r.connect_s : r.wall_s;
    return t > 0 ? (double)bytes / t : 0;
}

void print_json(FILE *out, const Report &r) {
    fprintf(out, "{\"requests\":%lld,\"succeeded\":%llu,\"failed\":%llu,", r.requests,
            (unsigned long long)r.succeeded, (unsigned long long)r.failed);
    json_causes(out, "failures", r.failures);
    fprintf(out, ",");
    json_latency(out, "latency_us", r.latency);
    fprintf(out, ",\"requests_per_s\":%.1f,\"connections_per_s\":%.1f,\"wall_s\":%.3f,"
            "\"peak_open\":%llu,\"connections\":%llu,\"concurrency\":%lld,\"per_connection\":%lld",
            r.requests_per_s, r.connections_per_s, r.wall_s, (unsigned long long)r.peak_open,
            (unsigned long long)r.connections, r.concurrency, r.per_conn);
    fprintf(out, ",\"target\":\"%s\",\"reports\":%d,\"mode\":\"%s\",\"duration_s\":%.3f,"
            "\"warmup_s\":%.3f,\"connect_s\":%.3f,\"connect_failed\":%llu,\"rate\":%lld,",
            r.target, r.reports, r.blocking ? "blocking" : r.held ? "held" : "oneshot",
            r.duration_s, r.warmup_s, r.connect_s, (unsigned long long)r.connect_failed, r.rate);
    if (has_held_figures(r)) {
        fprintf(out, "\"dropped\":%llu,\"connections_held\":%llu,\"connection_failures\":{",
                (unsigned long long)r.dropped, (unsigned long long)held_through(r));
        json_causes(out, "connect", r.connect_failures);
        fprintf(out, ",");
        json_causes(out, "dropped", r.drops);
        fprintf(out, "},");
    }
    fprintf(out, "\"request_bytes\":%lld,\"bytes_sent\":%llu,\"bytes_received\":%llu,\"sent_bytes_per_s\":%.0f,"
            "\"received_bytes_per_s\":%.0f,", r.request_bytes, (unsigned long long)r.bytes_sent,
            (unsigned long long)r.bytes_received, per_s(r, r.bytes_sent), per_s(r, r.bytes_received));
    if (r.rate || r.service.count()) {  // as has_held_figures
        json_latency(out, "send_lag_us", r.send_lag);
        fprintf(out, ",");
        json_histogram(out, "send_lag_histogram", r.send_lag);
        fprintf(out, ",");
        json_latency(out, "service_us", r.service);
        fprintf(out, ",");
        json_histogram(out, "service_histogram", r.service);
        fprintf(out, ",");
    }
    json_histogram(out, "histogram", r.latency);
    fprintf(out, "}\n");
}

}  // namespace

void print_report(FILE *out, const Report &r, bool json) {
    if (json) {
        print_json(out, r);
        return;
    }
    const char *t = r.target[0] ? r.target : "?";
    if (r.reports > 1)
        fprintf(out, "cli_flood: %d reports merged, %s\n", r.reports, t);
    else if (r.held && r.rate)
        fprintf(out, "cli_flood: %s, %lld connections held %.0f s, %lld requests/s (open loop)\n",
                t, r.concurrency, r.duration_s, r.rate);
    else if (r.held)
        fprintf(out, "cli_flood: %s, %lld connections held %.0f s, closed loop\n", t,
                r.concurrency, r.duration_s);
    else
        fprintf(out, "cli_flood: %s, %lld requests, %lld %s, %lld per connection\n", t,
                r.requests, r.concurrency, r.blocking ? "blocking workers" : "concurrent",
                r.per_conn);
    if (r.held) {
        fprintf(out, "  connect     %llu connected in %.3f s, %llu could not connect\n",
                (unsigned long long)r.connections, r.connect_s,
                (unsigned long long)r.connect_failed);
        fprintf(out, "  held        %llu of %lld through the window, %llu dropped\n",
                (unsigned long long)held_through(r), r.concurrency, (unsigned long long)r.dropped);
        if (r.connect_failed) {
            fprintf(out, "  not opened ");
            text_causes(out, r.connect_failures);
            fprintf(out, "\n");
        }
        if (r.dropped) {
            fprintf(out, "  dropped    ");
            text_causes(out, r.drops);
            fprintf(out, "\n");
        }
    }
    fprintf(out, "  requests    %llu succeeded, %llu failed\n", (unsigned long long)r.succeeded,
            (unsigned long long)r.failed);
    if (r.failed) {
        fprintf(out, "  failures   ");
        text_causes(out, r.failures);
        fprintf(out, "\n");
    }
    text_latency(out, "latency us", r.latency);
    if (r.rate) text_latency(out, "service us", r.service);
    if (r.rate) text_latency(out, "send lag  ", r.send_lag);
    if (r.held)
        fprintf(out, "  rate        %.0f requests/s over the %.0f s window (after %.0f s warm-up)\n",
                r.requests_per_s, r.duration_s, r.warmup_s);
    else
        fprintf(out, "  rate        %.0f requests/s, %.0f connections/s\n", r.requests_per_s,
                r.connections_per_s);
    char size[40];
    if (r.request_bytes > 0) snprintf(size, sizeof size, "requests of %lld bytes", r.request_bytes);
    else snprintf(size, sizeof size, "%s", r.request_bytes ? "requests of mixed sizes" : "timestamp lines");
    fprintf(out, "  bytes       %llu sent, %llu received (%.1f and %.1f MiB/s), %s\n",
            (unsigned long long)r.bytes_sent, (unsigned long long)r.bytes_received,
            per_s(r, r.bytes_sent) / 1048576, per_s(r, r.bytes_received) / 1048576, size);
    fprintf(out, "  wall        %.3f s, peak %llu open connections\n", r.wall_s,
            (unsigned long long)r.peak_open);
    if (r.rate)
        fprintf(out, "  (us; latency counts from the time each request was due, service from when it "
                "was sent, send lag from when it could have been sent)\n");
}

void merge_report(Report *a, const Report &b) {
    if (strcmp(a->target, b.target) != 0 && b.target[0]) {
        size_t n = strlen(a->target);
        if (n + 3 < sizeof a->target && !strstr(a->target, "..."))
            snprintf(a->target + n, sizeof a->target - n, "...");
    }
    a->reports += b.reports;
    a->held = a->held || b.held;
    a->blocking = a->blocking && b.blocking;
    a->requests += b.requests;
    a->concurrency += b.concurrency;
    if (a->per_conn != b.per_conn) a->per_conn = 0;
    a->rate += b.rate;
    a->succeeded += b.succeeded;
    a->failed += b.failed;
    a->connections += b.connections;
    a->peak_open += b.peak_open;
    a->connect_failed += b.connect_failed;
    a->dropped += b.dropped;
    for (int i = 0; i < F_COUNT; i++) {
        a->failures[i] += b.failures[i];
        a->connect_failures[i] += b.connect_failures[i];
        a->drops[i] += b.drops[i];
    }
    a->requests_per_s += b.requests_per_s;
    a->connections_per_s += b.connections_per_s;
    auto longest = [](double *x, double y) { if (y > *x) *x = y; };
    longest(&a->wall_s, b.wall_s);
    longest(&a->duration_s, b.duration_s);
    longest(&a->warmup_s, b.warmup_s);
    longest(&a->connect_s, b.connect_s);
    a->latency.merge(b.latency);
    a->service.merge(b.service);
    a->send_lag.merge(b.send_lag);
    a->bytes_sent += b.bytes_sent;
    a->bytes_received += b.bytes_received;
    if (a->request_bytes != b.request_bytes) a->request_bytes = -1;  // mixed sizes
}
