// cli_flood's report: the failure causes, and from the table of its fields (kField,
// flood_fields.cpp) the text, the JSON with the whole histograms, and the merge of
// reports (flood_parse.cpp reads them back, from the same table).
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

const char *field_text(const Field &f, const Report &r) {
    switch (f.kind) {
    case K_TEXT: return (const char *)f.in(r);
    case K_ENUM: return f.names[f.figure(r)];
    case K_TEXT_FIGURE: return f.text_figure(r);
    default: return "";
    }
}

namespace {

double us(uint64_t ns) { return (double)ns / 1000.0; }

void json_latency(FILE *out, const Histogram &h) {
    fprintf(out, "{\"min\":%.1f,\"avg\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
            "\"p999\":%.1f,\"max\":%.1f}",
            us(h.min()), h.mean() / 1000.0, us(h.quantile(0.5)), us(h.quantile(0.9)),
            us(h.quantile(0.99)), us(h.quantile(0.999)), us(h.max()));
}

// Non-empty buckets as [lower bound, count], in nanoseconds; the bound, not the
// index, so a reader with other bucket widths can still place the counts.
void json_histogram(FILE *out, const Histogram &h) {
    fprintf(out, "{\"unit\":\"ns\",\"count\":%llu,\"min\":%llu,\"max\":%llu,\"sum\":%llu,"
            "\"buckets\":[", (unsigned long long)h.count(), (unsigned long long)h.min(),
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

void text_latency(FILE *out, const Histogram &h) {
    fprintf(out, "min %.1f  avg %.1f  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f",
            us(h.min()), h.mean() / 1000.0, us(h.quantile(0.5)), us(h.quantile(0.9)),
            us(h.quantile(0.99)), us(h.quantile(0.999)), us(h.max()));
}

// A field's value, in the JSON or (json false) in the text.
void print_value(FILE *out, const Field &f, const Report &r, bool json) {
    const void *v = f.at ? f.in(r) : nullptr;
    const char *q = json ? "\"" : "";
    switch (f.kind) {
    case K_U64: fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)v); break;
    case K_I64: fprintf(out, "%lld", *(const long long *)v); break;
    case K_INT: fprintf(out, "%d", *(const int *)v); break;
    case K_REAL: fprintf(out, "%.*f", f.digits, *(const double *)v); break;
    case K_FIGURE: fprintf(out, "%llu", (unsigned long long)f.figure(r)); break;
    case K_REAL_FIGURE: fprintf(out, "%.*f", f.digits, f.real_figure(r)); break;
    case K_TEXT: case K_ENUM: case K_TEXT_FIGURE: fprintf(out, "%s%s%s", q, field_text(f, r), q); break;
    case K_COUNTS: {
        const uint64_t *n = (const uint64_t *)v;
        if (json) fprintf(out, "{");
        for (int i = 0; i < f.n; i++) {
            if (json) fprintf(out, "%s\"%s\":%llu", i ? "," : "", f.names[i], (unsigned long long)n[i]);
            else if (n[i]) fprintf(out, " %s %llu", f.names[i], (unsigned long long)n[i]);
        }
        if (json) fprintf(out, "}");
        break;
    }
    case K_HISTOGRAM: case K_SUMMARY: {  // the text has the percentiles of either
        const Histogram &h = *(const Histogram *)v;
        if (!json) text_latency(out, h);
        else if (f.kind == K_SUMMARY) json_latency(out, h);
        else json_histogram(out, h);
        break;
    }
    }
}

// The rows in order, "a.b" inside "a":{...}.
void print_json(FILE *out, const Report &r) {
    fprintf(out, "{");
    const char *group = nullptr;  // the key of the object open, or null
    size_t glen = 0;
    bool comma = false;
    for (int i = 0; i < kFields; i++) {
        const Field &f = kField[i];
        if (f.json_if && !f.json_if(r)) continue;
        const char *dot = strchr(f.key, '.');
        size_t len = dot ? (size_t)(dot - f.key) : 0;
        if (group && (len != glen || strncmp(f.key, group, len) != 0)) {
            fprintf(out, "}");
            group = nullptr;
        }
        if (dot && !group) {
            fprintf(out, "%s\"%.*s\":{", comma ? "," : "", (int)len, f.key);
            group = f.key, glen = len, comma = false;
        }
        fprintf(out, "%s\"%s\":", comma ? "," : "", dot ? dot + 1 : f.key);
        print_value(out, f, r, true);
        comma = true;
    }
    fprintf(out, "%s}\n", group ? "}" : "");
}

// The rows that print, by their places.
void print_text(FILE *out, const Report &r) {
    for (int at = 0;;) {
        int next = INT_MAX;
        for (int i = 0; i < kFields; i++)
            if (kField[i].text.at > at && kField[i].text.at < next) next = kField[i].text.at;
        if (next == INT_MAX) return;
        for (int i = 0; i < kFields; i++) {
            const Field &f = kField[i];
            if (f.text.at != next || (f.text.when && !f.text.when(r))) continue;
            if (f.text.line) {
                f.text.line(out, r);
                continue;
            }
            // "  failures    reset 3 mismatch 1": counts each come with their space
            fprintf(out, "  %-11s%s", f.text.label, f.kind == K_COUNTS ? "" : " ");
            print_value(out, f, r, false);
            fprintf(out, "\n");
        }
        at = next;
    }
}

bool same(const Field &f, const Report &a, const Report &b) {
    switch (f.kind) {
    case K_TEXT: case K_ENUM: case K_TEXT_FIGURE: return !strcmp(field_text(f, a), field_text(f, b));
    case K_FIGURE: return f.figure(a) == f.figure(b);
    case K_REAL_FIGURE: return f.real_figure(a) == f.real_figure(b);
    case K_REAL: return *(const double *)f.in(a) == *(const double *)f.in(b);
    default: return !memcmp(f.in(a), f.in(b), f.size);
    }
}

template <class T> void merge_number(T *a, T b, MergeRule rule, long long mark) {
    if (rule == M_SUM) *a += b;
    if (rule == M_MAX && b > *a) *a = b;
    if (rule == M_SAME_OR && *a != b) *a = (T)mark;
}

void merge_field(const Field &f, Report *a, const Report &b) {
    if (f.merge == M_NONE || f.merge == M_REFUSE) return;  // REFUSE: equal, or not merged
    void *x = f.at ? f.at(*a) : nullptr;
    const void *y = f.at ? f.in(b) : nullptr;
    switch (f.kind) {
    case K_U64: merge_number((uint64_t *)x, *(const uint64_t *)y, f.merge, f.mark); break;
    case K_I64: merge_number((long long *)x, *(const long long *)y, f.merge, f.mark); break;
    case K_INT: merge_number((int *)x, *(const int *)y, f.merge, f.mark); break;
    case K_REAL: merge_number((double *)x, *(const double *)y, f.merge, f.mark); break;
    case K_COUNTS:
        for (int i = 0; i < f.n; i++) ((uint64_t *)x)[i] += ((const uint64_t *)y)[i];
        break;
    case K_HISTOGRAM: ((Histogram *)x)->merge(*(const Histogram *)y); break;
    case K_TEXT: {  // "...": there were others; an empty one says nothing
        char *s = (char *)x;
        const char *t = (const char *)y;
        size_t n = strlen(s);
        if (strcmp(s, t) != 0 && t[0] && n + 3 < f.size && !strstr(s, "..."))
            snprintf(s + n, f.size - n, "...");
        break;
    }
    case K_ENUM:
        if (!same(f, *a, b)) f.set(*a, (uint64_t)f.mark);
        break;
    default: break;  // figures follow from the fields they are computed from
    }
}

}  // namespace

void print_report(FILE *out, const Report &r, bool json) {
    if (json) print_json(out, r);
    else print_text(out, r);
}

const Field *merge_report(Report *a, const Report &b) {
    for (int i = 0; i < kFields; i++)
        if (kField[i].merge == M_REFUSE && !same(kField[i], *a, b)) return &kField[i];
    for (int i = 0; i < kFields; i++) merge_field(kField[i], a, b);
    return nullptr;
}
