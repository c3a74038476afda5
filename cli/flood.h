// cli_flood's parts: options, the report every mode fills, and the three runners
// (event loop, blocking workers, merge of saved reports).
#pragma once
#include <cstdint>
#include <cstdio>
#include <sys/types.h>

#include "../common/clock.h"
#include "../common/hist.h"
#include "../common/net.h"

enum Failure {
    F_REFUSED, F_CONNECT_TIMEOUT, F_RESET, F_READ_TIMEOUT, F_CLOSED_EARLY, F_MISMATCH,
    F_NO_PORTS, F_NO_FDS, F_OTHER, F_INTERRUPTED, F_COUNT
};
extern const char *const kFailureName[F_COUNT];
// errno of a failed connect, read or write into a failure cause.
Failure classify(int err, bool connecting);

struct Options {
    const char *host = "127.0.0.1";
    int port = 9000;
    long long requests = 10000;
    long long concurrency = 0;  // 0: as many as requests (one-shot) or 100 (-d)
    long long per_conn = 1;
    long long timeout_s = 10;
    long long duration_s = 0;   // -d: hold the connections this long; 0 one-shot runs
    long long rate = 0;         // -R: requests per second over all connections; 0 closed loop
    long long connect_rate = 0; // --connect-rate: new connections per second; 0 all at once
    long long warmup_s = 0;     // --warmup: seconds after connecting left out of the figures
    long long blocking = 0;     // --blocking: worker processes instead of the event loop
    long long workers = 1;      // -w: event-loop processes sharing the load
    long long request_bytes = 0; // -l: the size of a request; 0 the bare timestamp line
    long long batch_us = 1000;  // --batch: -R releases requests on this grid; 0 each alone
    int worker_index = 0;       // which of them this process is
    int worker_count = 1;       // how many there are: held runs split the ports by it
    int port_lo = 0, port_hi = 0;  // net.ipv4.ip_local_port_range; 0 if unknown
    const Endpoint *sources = nullptr;  // -s: source addresses, used in turn
    int nsources = 0;
    bool default_sources = false;  // the loopback spread, not -s
    long long interval_s = 0;   // -i: a record every this many seconds; 0 none
    bool json = false;
    bool progress = false;      // stderr is a terminal
    Endpoint target;
};

// Everything a report prints; a run fills it, --merge adds saved ones together.
struct Report {
    char target[64] = "";
    int reports = 1;            // runs merged into this one
    bool held = false;          // -d
    bool blocking = false;
    long long requests = 0, concurrency = 0, per_conn = 1, rate = 0;
    uint64_t succeeded = 0, failed = 0, failures[F_COUNT] = {};
    uint64_t connections = 0, peak_open = 0, connect_failed = 0;
    // Held runs: connections that opened, then were closed, reset or timed out before
    // we closed them ourselves; by cause, as connect_failed is.
    uint64_t dropped = 0;
    uint64_t connect_failures[F_COUNT] = {}, drops[F_COUNT] = {};
    double wall_s = 0, duration_s = 0, warmup_s = 0, connect_s = 0;
    double requests_per_s = 0, connections_per_s = 0;
    Histogram latency;          // under -R from the time each request was due
    Histogram service;          // under -R from the time it was sent; empty otherwise
    // -l and -R (flood_loop.cpp, flood_held.cpp): bytes on the wire each way, the
    // request size (0: timestamp line), and how late each -R send was.
    long long request_bytes = 0;  // -l; -1 when merged reports differ
    uint64_t bytes_sent = 0, bytes_received = 0;
    Histogram send_lag;
};

// -w: at most this many event-loop processes.
constexpr int kMaxWorkers = 1000;

// Run the event loop (one-shot or -d), in this process or in o.workers of them,
// or the blocking workers, and fill r.
void run_events(const Options &o, Report *r);
void run_workers(const Options &o, Report *r);
void run_blocking(const Options &o, Report *r);

// Held runs open at most this many connections a loop turn, then read events: a
// client that opened faster than it read would time out connections the kernel
// had long established, and call its own lag a server's failure.
constexpr int kOpensPerTurn = 256;
// The most connections a held run opens at once, over all -w processes: without
// --connect-rate all of -c; with it (ramp() in flood_held.cpp spreads them evenly)
// those due in a loop turn of 1 ms (the timeouts of kernels before 5.11, or a busy
// turn), up to kOpensPerTurn a process. What a listen queue must hold.
long long connect_burst(const Options &o);

// Sends request q from byte off on (common/clock.h has its format); send(2)'s result.
ssize_t request_send(int fd, const Request &q, uint32_t off, int flags);
// -R: warns on stderr if the sends ran late enough that the client, not the
// server, bounds the figures.
void warn_send_lag(const Report &r, long long rate, long long concurrency);

// Something asked for was lost: a request failed, or (held) a connection was not
// held through the window. The exit status is 1 then.
bool report_lost(const Report &r);

// Text or one-line JSON.
void print_report(FILE *out, const Report &r, bool json);
// Parses a JSON report as print_report writes it; on failure err says where and
// *r is left as it was.
bool parse_report(const char *text, Report *r, char *err, size_t errlen);
// -i (flood_interval.cpp): a record of each interval on stdout, a text line or a
// JSON object marked "type":"interval", the difference between two snapshots of
// the run's cumulative report. The last record, from the final report, covers
// the rest, so the records add up to the report exactly.
void interval_begin(const Options &o, uint64_t now);
bool interval_due(uint64_t now);
void interval_record(const Report &so_far, uint64_t now);
void interval_end(const Report &final_report, uint64_t now);
// What --merge reads of a saved file: the whole text, or of JSON Lines written
// with -i --json the last line, the report.
const char *report_line(const char *text);

// The report's fields as a table (kField, flood_report.cpp): each row gives a
// field's JSON key, where its value lives, how reports merge it and where it
// prints in the text report. print_report, parse_report and merge_report read the
// table and nothing else, so a field added to it is written, read and merged.
enum FieldKind {
    // A member of Report, its kind deduced from its type (FIELD in flood_report.cpp).
    K_U64, K_I64, K_INT, K_REAL, K_TEXT,
    K_COUNTS,     // uint64_t[n], a JSON object of a count per name
    K_HISTOGRAM,  // the whole histogram, buckets and totals
    K_ENUM,       // one of a list of names, kept in Report as its own members (get, set)
    // Written, never read: computed from other fields.
    K_SUMMARY,    // a histogram's percentiles
    K_FIGURE, K_REAL_FIGURE, K_TEXT_FIGURE,
};
enum MergeRule {
    M_NONE,     // computed from the others: nothing to merge
    M_SUM,      // counts, rates and histograms add up
    M_MAX,      // times: the longest
    M_SAME_OR,  // kept if equal, else the row's mark (a text field gets "...")
    M_REFUSE,   // kept if equal, else the reports do not merge
};
struct Field {
    const char *key = nullptr;  // "a.b": b in an object a (one level)
    FieldKind kind = K_U64;
    void *(*at)(Report &) = nullptr;  // the member; null for K_ENUM and figures
    size_t size = 0;            // the member's size
    int digits = 0;             // K_REAL, K_REAL_FIGURE: decimals in JSON
    const char *const *names = nullptr;  // K_COUNTS, K_ENUM: a name per value
    int n = 0;                  // how many
    uint64_t (*figure)(const Report &) = nullptr;        // K_FIGURE; K_ENUM: get
    double (*real_figure)(const Report &) = nullptr;     // K_REAL_FIGURE
    const char *(*text_figure)(const Report &) = nullptr;  // K_TEXT_FIGURE
    void (*set)(Report &, uint64_t) = nullptr;           // K_ENUM
    MergeRule merge = M_NONE;
    long long mark = 0;         // M_SAME_OR: the value when the reports differ
    bool (*json_if)(const Report &) = nullptr;  // in the JSON only if it holds; null: always
    struct Text {
        int at = 0;             // its line's place in the text report; 0: not printed
        bool (*when)(const Report &) = nullptr;  // null: always
        const char *label = nullptr;  // "  label       value", the value as its kind prints
        void (*line)(FILE *, const Report &) = nullptr;  // or a line of its own, of several fields
    } text = {};
    const void *in(const Report &r) const { return at(const_cast<Report &>(r)); }
};
extern const Field kField[];
extern const int kFields;
constexpr int kMaxFields = 64;  // parse_report's room
// A text field's value, or a figure's: what a refusal to merge names.
const char *field_text(const Field &f, const Report &r);

// Adds b to a, as if both runs had been one run from several machines at once:
// counts and rates add up, times take the longest, histograms merge. Reports of
// different kinds (a field of M_REFUSE differs) do not add up: a is left as it
// was and the field returned; null when merged.
const Field *merge_report(Report *a, const Report &b);
