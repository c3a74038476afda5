// cli_flood's report as a table: kField, a row a field, with what its rows need
// (the figures computed from other fields, the text lines of several fields).
// flood_report.cpp writes and merges reports from it, flood_parse.cpp reads them.
#include <cstring>

#include "flood.h"

namespace {

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
