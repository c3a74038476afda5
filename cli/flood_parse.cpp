// cli_flood's reader of its own JSON report, just large enough to merge saved
// reports (--merge) and the workers' (-w).
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "flood.h"

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
    Saved *lat, *svc, *lag;

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
             : !strncmp(path, "service_histogram.", 18) ? svc
             : !strncmp(path, "send_lag_histogram.", 19) ? lag : nullptr;
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
        {"request_bytes", nullptr, &R.request_bytes, nullptr},
        {"bytes_sent", &R.bytes_sent, nullptr, nullptr},
        {"bytes_received", &R.bytes_received, nullptr, nullptr},
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
    static Saved lat, svc, lag;  // 30 KiB each: not on the stack
    static Report got;
    Report *r = &got;
    lat = Saved{};
    svc = Saved{};
    lag = Saved{};
    got = Report{};
    Reader rd{text, text, "", r, &lat, &svc, &lag};
    bool ok = rd.value("", 0);
    if (ok) {
        rd.ws();
        if (*rd.p) ok = rd.fail("trailing bytes");
    }
    if (ok && lat.h.count() != lat.count) ok = rd.fail("histogram count does not match its buckets");
    if (ok && svc.h.count() != svc.count) ok = rd.fail("service_histogram count does not match its buckets");
    if (ok && r->succeeded && !lat.count) ok = rd.fail("no histogram (a report from an older cli_flood?)");
    // Held through the window is connections less dropped: more dropped than
    // connected is no report cli_flood wrote (and would print 2^64 - 1 held).
    if (ok && r->dropped > r->connections) ok = rd.fail("more connections dropped than connected");
    if (!ok) {
        snprintf(err, errlen, "%s", rd.err);
        return false;
    }
    restore(&r->latency, lat);
    restore(&r->service, svc);
    restore(&r->send_lag, lag);
    *out = got;
    return true;
}
