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
    uint64_t u;     // 0 below zero
    long long i;    // the signed fields' (request_bytes -1: mixed sizes)
    double d;
};

// A histogram's totals as read: they come before or after its buckets, which go
// straight into the report's histogram (restore() puts the totals in at the end).
struct Totals {
    uint64_t count = 0, min = 0, max = 0, sum = 0;
};

struct Reader {
    const char *p;
    const char *start;
    char err[128];
    Report *r;
    Totals *totals;  // a row of kField each

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
        bool whole = true, integer = *p != '-';
        q = *q == '0' ? q + 1 : digits(q);
        if (!q) return fail("expected a value");
        if (*q == '.') {
            whole = integer = false;
            if (!(q = digits(q + 1))) return fail("expected digits after '.'");
        }
        if (*q == 'e' || *q == 'E') {
            whole = integer = false;
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
        if (*p != '-') v->i = v->u > (uint64_t)LLONG_MAX ? LLONG_MAX : (long long)v->u;
        else if (whole) v->i = strtoll(p, nullptr, 10);  // exact; LLONG_MIN at most
        else v->i = v->d > -9.2e18 ? (long long)v->d : LLONG_MIN;
        p = q;
        return true;
    }
    bool value(const char *path, int depth);
    void scalar(const char *path, const Num *v, int n, const char *s);
};

// Puts the value at path into the field of kField whose key it is: a scalar of the
// field's kind, or a count or histogram entry under its key. Values of another
// kind, and keys of no field (figures such as "latency_us.p50"), are left out.
void Reader::scalar(const char *path, const Num *v, int n, const char *s) {
    for (int i = 0; i < kFields; i++) {
        const Field &f = kField[i];
        size_t len = strlen(f.key);
        if (strncmp(path, f.key, len) != 0 || (path[len] && path[len] != '.')) continue;
        const char *sub = path[len] ? path + len + 1 : nullptr;  // "reset" of "failures.reset"
        bool grouped = f.kind == K_COUNTS || f.kind == K_HISTOGRAM;  // an object of entries
        if (grouped != (sub != nullptr)) continue;
        void *at = f.at ? f.at(*r) : nullptr;
        if (s) {
            if (f.kind == K_TEXT) snprintf((char *)at, f.size, "%s", s);
            if (f.kind != K_ENUM) return;
            uint64_t m = 0;  // a name it does not know: the first
            for (int k = 0; k < f.n; k++)
                if (!strcmp(s, f.names[k])) m = (uint64_t)k;
            f.set(*r, m);
            return;
        }
        Totals &t = totals[i];
        switch (f.kind) {
        case K_U64: if (n == 1) *(uint64_t *)at = v[0].u; break;
        case K_I64: if (n == 1) *(long long *)at = v[0].i; break;
        case K_INT: if (n == 1) *(int *)at = v[0].i > INT_MAX ? INT_MAX : v[0].i < INT_MIN ? INT_MIN : (int)v[0].i; break;
        case K_REAL: if (n == 1) *(double *)at = v[0].d; break;
        case K_COUNTS:
            for (int k = 0; k < f.n; k++)
                if (n == 1 && !strcmp(sub, f.names[k])) ((uint64_t *)at)[k] = v[0].u;
            break;
        case K_HISTOGRAM:
            if (!strcmp(sub, "buckets") && n == 2)
                ((Histogram *)at)->add_bucket(Histogram::index_of(v[0].u), v[1].u, UINT64_MAX, 0, 0);
            else if (!strcmp(sub, "count")) t.count = v[0].u;
            else if (!strcmp(sub, "min")) t.min = v[0].u;
            else if (!strcmp(sub, "max")) t.max = v[0].u;
            else if (!strcmp(sub, "sum")) t.sum = v[0].u;
            break;
        default: break;  // written, never read
        }
        return;
    }
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

// Puts a histogram's totals in with its first bucket, min, max and sum once.
void restore(Histogram *h, const Totals &t) {
    static Histogram buckets;  // 30 KiB: not on the stack
    buckets = *h;
    *h = Histogram{};
    bool first = true;
    for (int i = 0; i < Histogram::kBuckets; i++) {
        if (!buckets.bucket(i)) continue;
        h->add_bucket(i, buckets.bucket(i), t.min, t.max, first ? t.sum : 0);
        first = false;
    }
}

}  // namespace

bool parse_report(const char *text, Report *out, char *err, size_t errlen) {
    // Read into one's own copy: *out changes only when the whole text is good.
    static Report got;  // 90 KiB of histograms: not on the stack
    Totals totals[kMaxFields];
    got = Report{};
    Report *r = &got;
    Reader rd{text, text, "", r, totals};
    bool ok = rd.value("", 0);
    if (ok) {
        rd.ws();
        if (*rd.p) ok = rd.fail("trailing bytes");
    }
    for (int i = 0; ok && i < kFields; i++) {
        const Field &f = kField[i];
        if (f.kind != K_HISTOGRAM || ((Histogram *)f.at(got))->count() == totals[i].count) continue;
        char what[96];
        snprintf(what, sizeof what, "%s count does not match its buckets", f.key);
        ok = rd.fail(what);
    }
    if (ok && r->succeeded && !r->latency.count()) ok = rd.fail("no histogram (a report from an older cli_flood?)");
    // Held through the window is connections less dropped: more dropped than
    // connected is no report cli_flood wrote (and would print 2^64 - 1 held).
    if (ok && r->dropped > r->connections) ok = rd.fail("more connections dropped than connected");
    if (!ok) {
        snprintf(err, errlen, "%s", rd.err);
        return false;
    }
    for (int i = 0; i < kFields; i++)
        if (kField[i].kind == K_HISTOGRAM) restore((Histogram *)kField[i].at(got), totals[i]);
    *out = got;
    return true;
}
