// cli_flood's report: the failure causes, the table of its fields (kField), and
// from the table the text, the JSON with the whole histograms, and the merge of
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

namespace {

double us(uint64_t ns) { return (double)ns / 1000.0; }

uint64_t held_through(const Report &r) { return r.connections - r.dropped; }

// A held run's figures, or a report read back that has some: what it holds, it prints.
bool has_held_figures(const Report &r) {
    if (r.held || r.dropped) return true;
    for (int i = 0; i < F_COUNT; i++)
        if (r.connect_failures[i] || r.drops[i]) return true;
    return false;
}

// -R's figures, or a report read back that has some (as has_held_figures).
bool has_rate_figures(const Report &r) { return r.rate || r.service.count(); }
bool never(const Report &) { return false; }

// Bytes a second over the traffic's time: a held run's connect phase left out.
double per_s(const Report &r, uint64_t bytes) {
    double t = r.held ? r.wall_s - r.connect_s : r.wall_s;
    return t > 0 ? (double)bytes / t : 0;
}
double sent_per_s(const Report &r) { return per_s(r, r.bytes_sent); }
double received_per_s(const Report &r) { return per_s(r, r.bytes_received); }

// The JSON's "mode": Report keeps it as two flags.
const char *const kModeName[] = {"oneshot", "held", "blocking"};
uint64_t mode_of(const Report &r) { return r.blocking ? 2 : r.held ? 1 : 0; }
void set_mode(Report &r, uint64_t m) {
    r.held = m == 1;
    r.blocking = m == 2;
}

// What a report measures: one-shot requests, or held connections in a closed or an
// open loop (latency from the send, or from the due time). Counts of different
// kinds do not add up to anything: a one-shot connection is not one held.
const char *report_kind(const Report &r) {
    return !r.held ? "one-shot" : r.rate ? "held open-loop (-R)" : "held closed-loop";
}

// The text lines that tell of several fields, each at the row of one of them.
void line_header(FILE *out, const Report &r) {
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
}
void line_connect(FILE *out, const Report &r) {
    fprintf(out, "  connect     %llu connected in %.3f s, %llu could not connect\n",
            (unsigned long long)r.connections, r.connect_s, (unsigned long long)r.connect_failed);
}
void line_held(FILE *out, const Report &r) {
    fprintf(out, "  held        %llu of %lld through the window, %llu dropped\n",
            (unsigned long long)held_through(r), r.concurrency, (unsigned long long)r.dropped);
}
void line_requests(FILE *out, const Report &r) {
    fprintf(out, "  requests    %llu succeeded, %llu failed\n", (unsigned long long)r.succeeded,
            (unsigned long long)r.failed);
}
void line_rate(FILE *out, const Report &r) {
    if (r.held)
        fprintf(out, "  rate        %.0f requests/s over the %.0f s window (after %.0f s warm-up)\n",
                r.requests_per_s, r.duration_s, r.warmup_s);
    else
        fprintf(out, "  rate        %.0f requests/s, %.0f connections/s\n", r.requests_per_s,
                r.connections_per_s);
}
void line_bytes(FILE *out, const Report &r) {
    char size[40];
    if (r.request_bytes > 0) snprintf(size, sizeof size, "requests of %lld bytes", r.request_bytes);
    else snprintf(size, sizeof size, "%s", r.request_bytes ? "requests of mixed sizes" : "timestamp lines");
    fprintf(out, "  bytes       %llu sent, %llu received (%.1f and %.1f MiB/s), %s\n",
            (unsigned long long)r.bytes_sent, (unsigned long long)r.bytes_received,
            per_s(r, r.bytes_sent) / 1048576, per_s(r, r.bytes_received) / 1048576, size);
}
void line_wall(FILE *out, const Report &r) {
    fprintf(out, "  wall        %.3f s, peak %llu open connections\n", r.wall_s,
            (unsigned long long)r.peak_open);
}
void line_units(FILE *out, const Report &) {
    fprintf(out, "  (us; latency counts from the time each request was due, service from when it "
            "was sent, send lag from when it could have been sent)\n");
}

bool held(const Report &r) { return r.held; }
bool rated(const Report &r) { return r.rate != 0; }
bool failed(const Report &r) { return r.failed != 0; }
bool not_opened(const Report &r) { return r.held && r.connect_failed; }
bool dropped(const Report &r) { return r.held && r.dropped; }

// A member's kind follows from its type; a double needs its decimals (REAL), an
// array of counts its names (COUNTS), as many as it has counts.
template <class T> struct KindOf;
template <> struct KindOf<uint64_t> { static constexpr FieldKind k = K_U64; };
template <> struct KindOf<long long> { static constexpr FieldKind k = K_I64; };
template <> struct KindOf<int> { static constexpr FieldKind k = K_INT; };
template <size_t N> struct KindOf<char[N]> { static constexpr FieldKind k = K_TEXT; };
template <> struct KindOf<Histogram> { static constexpr FieldKind k = K_HISTOGRAM; };
constexpr FieldKind real_kind(double Report::*) { return K_REAL; }
constexpr FieldKind summary_kind(Histogram Report::*) { return K_SUMMARY; }
template <size_t N>
constexpr FieldKind counts_kind(uint64_t (Report::*)[N], const char *const (&)[N]) { return K_COUNTS; }

// The value columns of a row: kind, at, size, digits, names, n, figures, set.
#define AT(m) [](Report &r) -> void * { return &r.m; }, sizeof(Report::m)
#define FIELD(m) KindOf<decltype(Report::m)>::k, AT(m), 0, nullptr, 0, nullptr, nullptr, nullptr, nullptr
#define REAL(m, digits) real_kind(&Report::m), AT(m), digits, nullptr, 0, nullptr, nullptr, nullptr, nullptr
#define COUNTS(m, names) counts_kind(&Report::m, names), AT(m), 0, names, \
    (int)(sizeof(Report::m) / sizeof(uint64_t)), nullptr, nullptr, nullptr, nullptr
#define SUMMARY(m) summary_kind(&Report::m), AT(m), 0, nullptr, 0, nullptr, nullptr, nullptr, nullptr
#define ENUM(names, get, set) K_ENUM, nullptr, 0, 0, names, (int)(sizeof names / sizeof names[0]), \
    get, nullptr, nullptr, set
#define FIGURE(f) K_FIGURE, nullptr, 0, 0, nullptr, 0, f, nullptr, nullptr, nullptr
#define REAL_FIGURE(f, digits) K_REAL_FIGURE, nullptr, 0, digits, nullptr, 0, nullptr, f, nullptr, nullptr
#define TEXT_FIGURE(f) K_TEXT_FIGURE, nullptr, 0, 0, nullptr, 0, nullptr, nullptr, f, nullptr

}  // namespace

// The report, a row a field, in the order of the JSON. To add a field, add its
// member to Report (flood.h) and one row here:
//   key     its JSON key; "a.b" puts b in an object "a" with the rows next to it.
//   value   FIELD(member) for a uint64_t, long long, int, char[] (text) or
//           Histogram member; REAL(member, decimals) for a double; COUNTS(member,
//           names) for a family of counts, uint64_t[n] with n names; ENUM for a
//           name kept as other members; FIGURE, REAL_FIGURE, TEXT_FIGURE for a
//           value computed from others, written and never read.
//   merge   M_SUM, M_MAX, M_SAME_OR with its mark, M_REFUSE (what must agree, such
//           as a protocol: --merge refuses two reports that differ, naming both).
//   JSON if a condition: written only for the runs that have it (null: always).
//   text    {place, condition, label}: a line "  label       value" at its place
//           (the places run 10, 20, ...), or {place, condition, nullptr, line}
//           with a function printing a line of several fields; {} none.
// For example, a protocol and the HTTP status classes:
//   {"protocol", FIELD(protocol),              M_REFUSE, 0, nullptr, {15, nullptr, "protocol"}},
//   {"status",   COUNTS(status, kStatusName),  M_SUM,    0, nullptr, {65, nullptr, "status"}},
// and a failure cause is a name in Failure and kFailureName. The JSON, --merge's
// reader, the merge and the text follow from the row; unit_report writes, reads
// and merges every row.
const Field kField[] = {
    // key               value                             merge  mark  JSON if     text: place, when, label or line
    {"requests",         FIELD(requests),                  M_SUM},
    {"succeeded",        FIELD(succeeded),                 M_SUM, 0, nullptr,       {60, nullptr, nullptr, line_requests}},
    {"failed",           FIELD(failed),                    M_SUM},
    {"failures",         COUNTS(failures, kFailureName),   M_SUM, 0, nullptr,       {70, failed, "failures"}},
    {"latency_us",       SUMMARY(latency),                 M_NONE, 0, nullptr,      {80, nullptr, "latency us"}},
    {"requests_per_s",   REAL(requests_per_s, 1),          M_SUM, 0, nullptr,       {110, nullptr, nullptr, line_rate}},
    {"connections_per_s", REAL(connections_per_s, 1),      M_SUM},
    {"wall_s",           REAL(wall_s, 3),                  M_MAX, 0, nullptr,       {130, nullptr, nullptr, line_wall}},
    {"peak_open",        FIELD(peak_open),                 M_SUM},
    {"connections",      FIELD(connections),               M_SUM, 0, nullptr,       {20, held, nullptr, line_connect}},
    {"concurrency",      FIELD(concurrency),               M_SUM},
    {"per_connection",   FIELD(per_conn),                  M_SAME_OR, 0},
    {"target",           FIELD(target),                    M_SAME_OR, 0, nullptr,   {10, nullptr, nullptr, line_header}},
    {"reports",          FIELD(reports),                   M_SUM},
    {"mode",             ENUM(kModeName, mode_of, set_mode), M_SAME_OR, 0},
    {"duration_s",       REAL(duration_s, 3),              M_MAX},
    {"warmup_s",         REAL(warmup_s, 3),                M_MAX},
    {"connect_s",        REAL(connect_s, 3),               M_MAX},
    {"connect_failed",   FIELD(connect_failed),            M_SUM},
    {"rate",             FIELD(rate),                      M_SUM, 0, nullptr,       {140, rated, nullptr, line_units}},
    {"dropped",          FIELD(dropped),                   M_SUM, 0, has_held_figures},
    {"connections_held", FIGURE(held_through),             M_NONE, 0, has_held_figures, {30, held, nullptr, line_held}},
    {"connection_failures.connect", COUNTS(connect_failures, kFailureName), M_SUM, 0, has_held_figures, {40, not_opened, "not opened"}},
    {"connection_failures.dropped", COUNTS(drops, kFailureName), M_SUM, 0, has_held_figures, {50, dropped, "dropped"}},
    {"request_bytes",    FIELD(request_bytes),             M_SAME_OR, -1},  // -1: mixed sizes
    {"bytes_sent",       FIELD(bytes_sent),                M_SUM, 0, nullptr,       {120, nullptr, nullptr, line_bytes}},
    {"bytes_received",   FIELD(bytes_received),            M_SUM},
    {"sent_bytes_per_s", REAL_FIGURE(sent_per_s, 0),       M_NONE},
    {"received_bytes_per_s", REAL_FIGURE(received_per_s, 0), M_NONE},
    {"send_lag_us",      SUMMARY(send_lag),                M_NONE, 0, has_rate_figures, {100, rated, "send lag"}},
    {"send_lag_histogram", FIELD(send_lag),                M_SUM, 0, has_rate_figures},
    {"service_us",       SUMMARY(service),                 M_NONE, 0, has_rate_figures, {90, rated, "service us"}},
    {"service_histogram", FIELD(service),                  M_SUM, 0, has_rate_figures},
    {"histogram",        FIELD(latency),                   M_SUM},
    // Not written: what the merge of reports of other kinds refuses.
    {"kind",             TEXT_FIGURE(report_kind),         M_REFUSE, 0, never},
};
const int kFields = (int)(sizeof kField / sizeof kField[0]);
static_assert(sizeof kField / sizeof kField[0] <= kMaxFields, "parse_report has room for kMaxFields");

const char *field_text(const Field &f, const Report &r) {
    switch (f.kind) {
    case K_TEXT: return (const char *)f.in(r);
    case K_ENUM: return f.names[f.figure(r)];
    case K_TEXT_FIGURE: return f.text_figure(r);
    default: return "";
    }
}

namespace {

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
    case K_HISTOGRAM:
        if (json) json_histogram(out, *(const Histogram *)v);
        else text_latency(out, *(const Histogram *)v);
        break;
    case K_SUMMARY:
        if (json) json_latency(out, *(const Histogram *)v);
        else text_latency(out, *(const Histogram *)v);
        break;
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
