// cli_flood's report: text, JSON with the whole histogram, and a reader for that
// JSON just large enough to merge saved reports (--merge).
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "flood.h"

const char *const kFailureName[F_COUNT] = {
    "refused", "connect_timeout", "reset", "read_timeout", "closed_early", "mismatch",
    "no_ports", "no_descriptors", "other", "interrupted",
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
    if (r.rate || r.service.count()) {  // as has_held_figures
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
    if (r.held)
        fprintf(out, "  rate        %.0f requests/s over the %.0f s window (after %.0f s warm-up)\n",
                r.requests_per_s, r.duration_s, r.warmup_s);
    else
        fprintf(out, "  rate        %.0f requests/s, %.0f connections/s\n", r.requests_per_s,
                r.connections_per_s);
    fprintf(out, "  wall        %.3f s, peak %llu open connections\n", r.wall_s,
            (unsigned long long)r.peak_open);
    if (r.rate)
        fprintf(out, "  (latency counts from the time each request was due, service from when it "
                "was sent)\n");
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
}

// The reader: a recursive descent over objects, arrays, numbers and strings that
// hands every scalar (or every array of up to two numbers) to one function by its
// key path, "latency_us.p50" or "histogram.buckets". No allocation.
namespace {

struct Num {
    uint64_t u;
    double d;
};

struct Saved {  // a histogram as read: buckets first, totals whenever they come
    Histogram h;
    uint64_t count = 0, min = 0, max = 0, sum = 0;
};

struct Reader {
    const char *p;
    const char *start;
    char err[128];
    Report *r;
    Saved *lat, *svc;

    bool fail(const char *what) {
        if (!err[0]) snprintf(err, sizeof err, "%s at offset %ld", what, (long)(p - start));
        return false;
    }
    void ws() { while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++; }
    bool string(char *out, size_t len) {
        if (*p != '"') return fail("expected a string");
        p++;
        size_t n = 0;
        while (*p && *p != '"') {
            // cli_flood writes no escapes and JSON allows no control characters:
            // taking either would print back as another string, or as invalid JSON.
            if (*p == '\\') return fail("escape in a string");
            if ((unsigned char)*p < 0x20) return fail("control character in a string");
            if (n + 1 < len) out[n++] = *p;
            p++;
        }
        if (*p != '"') return fail("unterminated string");
        p++;
        out[n] = '\0';
        return true;
    }
    bool number(Num *v) {
        // JSON's grammar alone: strtod would also take "nan", "inf", hex and a '+',
        // which would print back as no JSON at all.
        auto digits = [](const char *q) {
            if (*q < '0' || *q > '9') return (const char *)nullptr;
            while (*q >= '0' && *q <= '9') q++;
            return q;
        };
        const char *q = p + (*p == '-');
        bool integer = *p != '-';
        q = *q == '0' ? q + 1 : digits(q);
        if (!q) return fail("expected a value");
        if (*q == '.') {
            integer = false;
            if (!(q = digits(q + 1))) return fail("expected digits after '.'");
        }
        if (*q == 'e' || *q == 'E') {
            integer = false;
            q++;
            if (*q == '+' || *q == '-') q++;
            if (!(q = digits(q))) return fail("expected digits in the exponent");
        }
        errno = 0;
        char *end;
        v->d = strtod(p, &end);
        if (end != q) return fail("not a JSON number");  // "0x1p3": strtod reads on
        // Integers are read exactly: nanosecond sums pass 2^53.
        if (integer) v->u = strtoull(p, nullptr, 10);
        if (errno == ERANGE || !(v->d < 18446744073709551616.0))
            return fail("number out of range");
        if (!integer) v->u = v->d < 0 ? 0 : (uint64_t)v->d;
        p = q;
        return true;
    }
    bool value(const char *path, int depth);
    void scalar(const char *path, const Num *v, int n, const char *s);
};

void Reader::scalar(const char *path, const Num *v, int n, const char *s) {
    Report &R = *r;
    if (s) {
        if (!strcmp(path, "target")) snprintf(R.target, sizeof R.target, "%s", s);
        if (!strcmp(path, "mode")) {
            R.held = !strcmp(s, "held");
            R.blocking = !strcmp(s, "blocking");
        }
        return;
    }
    struct { const char *prefix; uint64_t *counts; } causes[] = {
        {"failures.", R.failures},
        {"connection_failures.connect.", R.connect_failures},
        {"connection_failures.dropped.", R.drops},
    };
    for (auto &c : causes) {
        size_t len = strlen(c.prefix);
        if (strncmp(path, c.prefix, len) != 0) continue;
        for (int i = 0; i < F_COUNT; i++)
            if (n == 1 && !strcmp(path + len, kFailureName[i])) c.counts[i] = v[0].u;
        return;
    }
    Saved *h = !strncmp(path, "histogram.", 10) ? lat
             : !strncmp(path, "service_histogram.", 18) ? svc : nullptr;
    if (h) {
        const char *k = strchr(path, '.') + 1;
        if (!strcmp(k, "buckets") && n == 2) h->h.add_bucket(Histogram::index_of(v[0].u), v[1].u, 0, 0, 0);
        else if (!strcmp(k, "count")) h->count = v[0].u;
        else if (!strcmp(k, "min")) h->min = v[0].u;
        else if (!strcmp(k, "max")) h->max = v[0].u;
        else if (!strcmp(k, "sum")) h->sum = v[0].u;
        return;
    }
    if (n != 1) return;
    struct { const char *key; uint64_t *u; long long *ll; double *d; } fields[] = {
        {"requests", nullptr, &R.requests, nullptr},
        {"succeeded", &R.succeeded, nullptr, nullptr},
        {"failed", &R.failed, nullptr, nullptr},
        {"requests_per_s", nullptr, nullptr, &R.requests_per_s},
        {"connections_per_s", nullptr, nullptr, &R.connections_per_s},
        {"wall_s", nullptr, nullptr, &R.wall_s},
        {"peak_open", &R.peak_open, nullptr, nullptr},
        {"connections", &R.connections, nullptr, nullptr},
        {"concurrency", nullptr, &R.concurrency, nullptr},
        {"per_connection", nullptr, &R.per_conn, nullptr},
        {"duration_s", nullptr, nullptr, &R.duration_s},
        {"warmup_s", nullptr, nullptr, &R.warmup_s},
        {"connect_s", nullptr, nullptr, &R.connect_s},
        {"connect_failed", &R.connect_failed, nullptr, nullptr},
        {"dropped", &R.dropped, nullptr, nullptr},
        {"rate", nullptr, &R.rate, nullptr},
    };
    for (auto &f : fields) {
        if (strcmp(path, f.key) != 0) continue;
        if (f.u) *f.u = v[0].u;
        if (f.ll) *f.ll = v[0].u > (uint64_t)LLONG_MAX ? LLONG_MAX : (long long)v[0].u;
        if (f.d) *f.d = v[0].d;
    }
    if (!strcmp(path, "reports")) R.reports = v[0].u > INT_MAX ? INT_MAX : (int)v[0].u;
}

bool Reader::value(const char *path, int depth) {
    if (depth > 8) return fail("nested too deep");
    ws();
    if (*p == '{') {
        p++;
        ws();
        if (*p == '}') return p++, true;
        for (;;) {
            ws();
            char key[64], sub[128];
            if (!string(key, sizeof key)) return false;
            ws();
            if (*p++ != ':') return fail("expected ':'");
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
            if (!value(sub, depth + 1)) return false;
            ws();
            if (*p == ',') { p++; continue; }
            if (*p == '}') return p++, true;
            return fail("expected ',' or '}'");
        }
    }
    if (*p == '[') {
        p++;
        Num v[2];
        int n = 0;
        ws();
        if (*p == ']') return p++, true;
        for (;;) {
            ws();
            if (*p == '[' || *p == '{') {
                if (!value(path, depth + 1)) return false;
            } else {
                if (n == 2) return fail("array of more than two numbers");
                if (!number(&v[n++])) return false;
            }
            ws();
            if (*p == ',') { p++; continue; }
            if (*p == ']') { p++; break; }
            return fail("expected ',' or ']'");
        }
        if (n) scalar(path, v, n, nullptr);
        return true;
    }
    if (*p == '"') {
        char s[64];
        if (!string(s, sizeof s)) return false;
        scalar(path, nullptr, 0, s);
        return true;
    }
    Num v;
    if (!number(&v)) return false;
    scalar(path, &v, 1, nullptr);
    return true;
}

// Rebuilds a histogram from its buckets; min, max and sum go in once.
void restore(Histogram *out, const Saved &s) {
    bool first = true;
    for (int i = 0; i < Histogram::kBuckets; i++) {
        if (!s.h.bucket(i)) continue;
        out->add_bucket(i, s.h.bucket(i), s.min, s.max, first ? s.sum : 0);
        first = false;
    }
}

}  // namespace

bool parse_report(const char *text, Report *out, char *err, size_t errlen) {
    // Read into one's own copy: *out changes only when the whole text is good.
    static Saved lat, svc;  // 30 KiB each: not on the stack
    static Report got;
    Report *r = &got;
    lat = Saved{};
    svc = Saved{};
    got = Report{};
    Reader rd{text, text, "", r, &lat, &svc};
    bool ok = rd.value("", 0);
    if (ok) {
        rd.ws();
        if (*rd.p) ok = rd.fail("trailing bytes");
    }
    if (ok && lat.h.count() != lat.count) ok = rd.fail("histogram count does not match its buckets");
    if (ok && svc.h.count() != svc.count) ok = rd.fail("service_histogram count does not match its buckets");
    if (ok && r->succeeded && !lat.count) ok = rd.fail("no histogram (a report from an older cli_flood?)");
    if (!ok) {
        snprintf(err, errlen, "%s", rd.err);
        return false;
    }
    restore(&r->latency, lat);
    restore(&r->service, svc);
    *out = got;
    return true;
}
