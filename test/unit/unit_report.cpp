// cli_flood's JSON report read back and merged equals one report over all samples;
// and every field of the report's table (kField) is read back as written and
// merged by its rule.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "../../cli/flood.h"
#include "../lib/report_util.h"

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

static char *printed(const Report &r, bool json) { return printed_report(r, json); }
static char *to_json(const Report &r) { return printed_report(r, true); }
static bool same_hist(const Histogram &a, const Histogram &b) { return !hist_differs(a, b); }

// Every row of kField, the table cli_flood's report is written, read and merged
// from. Each field gets a value that is not zero on both sides (and differs
// between them where the rule can tell), so a field the reader skips, or a rule
// done wrong, shows by its key. A row added later is covered as it is.
static Report ta, tb, tc, tm, texp, tr;

static bool member(const Field &f) { return f.at && f.kind != K_SUMMARY; }

// Row i's value on side 1 or 2: rows further down get smaller numbers, so that
// connections (row 10) stays above dropped (row 21), as the reader demands.
static uint64_t value_of(int i, int side) { return (uint64_t)(kFields - i) * 100 + (uint64_t)side; }

static void set_field(const Field &f, Report &r, uint64_t v, int side) {
    void *at = f.at ? f.at(r) : nullptr;
    switch (f.kind) {
    case K_U64: *(uint64_t *)at = v; break;
    case K_I64: *(long long *)at = (long long)v; break;
    case K_INT: *(int *)at = (int)v; break;
    case K_REAL: *(double *)at = (double)v + 0.5; break;  // prints exactly at 1 or 3 digits
    case K_TEXT: snprintf((char *)at, f.size, "%s-%llu", f.key, (unsigned long long)v); break;
    case K_COUNTS:
        for (int k = 0; k < f.n; k++) ((uint64_t *)at)[k] = v * 100 + (uint64_t)k;
        break;
    case K_HISTOGRAM:
        *(Histogram *)at = Histogram{};
        for (uint64_t k = 0; k < 5; k++) ((Histogram *)at)->add(v * 1000 + k * 37 + (uint64_t)side);
        break;
    case K_ENUM: f.set(r, (uint64_t)(f.n - 1)); break;  // the same both sides: a kind
    default: break;  // figures follow
    }
}

static bool same_field(const Field &f, const Report &x, const Report &y) {
    switch (f.kind) {
    case K_REAL: return *(const double *)f.in(x) == *(const double *)f.in(y);
    case K_TEXT: return !strcmp((const char *)f.in(x), (const char *)f.in(y));
    case K_HISTOGRAM: return same_hist(*(const Histogram *)f.in(x), *(const Histogram *)f.in(y));
    case K_ENUM: return f.figure(x) == f.figure(y);
    default: return member(f) ? !memcmp(f.in(x), f.in(y), f.size) : true;
    }
}

// What merging y into x gives under f's rule, computed here on its own.
template <class T> static T by_rule(const Field &f, T x, T y) {
    switch (f.merge) {
    case M_SUM: return x + y;
    case M_MAX: return x > y ? x : y;
    case M_SAME_OR: return x == y ? x : (T)f.mark;
    default: return x;
    }
}
static void expect_merged(const Field &f, Report &e, const Report &x, const Report &y) {
    void *at = f.at ? f.at(e) : nullptr;
    switch (f.kind) {
    case K_U64: *(uint64_t *)at = by_rule(f, *(const uint64_t *)f.in(x), *(const uint64_t *)f.in(y)); break;
    case K_I64: *(long long *)at = by_rule(f, *(const long long *)f.in(x), *(const long long *)f.in(y)); break;
    case K_INT: *(int *)at = by_rule(f, *(const int *)f.in(x), *(const int *)f.in(y)); break;
    case K_REAL: *(double *)at = by_rule(f, *(const double *)f.in(x), *(const double *)f.in(y)); break;
    case K_COUNTS:
        for (int k = 0; k < f.n; k++)
            ((uint64_t *)at)[k] = ((const uint64_t *)f.in(x))[k] + ((const uint64_t *)f.in(y))[k];
        break;
    case K_HISTOGRAM:  // all samples of both (Histogram::merge: unit_hist)
        *(Histogram *)at = *(const Histogram *)f.in(x);
        ((Histogram *)at)->merge(*(const Histogram *)f.in(y));
        break;
    case K_TEXT:
        if (strcmp((const char *)f.in(x), (const char *)f.in(y)) != 0)
            snprintf((char *)at, f.size, "%s...", (const char *)f.in(x));
        break;
    case K_ENUM:
        if (f.figure(x) != f.figure(y)) f.set(e, (uint64_t)f.mark);
        break;
    default: break;
    }
}

// x printed and read back: every field as it was, and the same JSON again.
static void check_round_trip(const Report &x, const char *what) {
    char err[160], msg[200];
    char *j = to_json(x);
    bool ok = parse_report(j, &tr, err, sizeof err);
    snprintf(msg, sizeof msg, "%s: the JSON parses (%s)", what, ok ? "" : err);
    check(ok, msg);
    for (int i = 0; ok && i < kFields; i++) {
        snprintf(msg, sizeof msg, "%s: %s read back as written", what, kField[i].key);
        check(same_field(kField[i], x, tr), msg);
    }
    char *j2 = to_json(tr);
    snprintf(msg, sizeof msg, "%s: printed again it is the same JSON", what);
    check(ok && !strcmp(j, j2), msg);
    if (ok && strcmp(j, j2)) printf("first:  %s\nsecond: %s\n", j, j2);
    free(j), free(j2);
}

static void check_merged(const Report &got, const Report &want, const char *what) {
    char msg[200];
    for (int i = 0; i < kFields; i++) {
        snprintf(msg, sizeof msg, "%s: %s merged by its rule", what, kField[i].key);
        check(same_field(kField[i], got, want), msg);
    }
}

// A line in the text report for each row that has a place in it and a label.
static void check_text(const Report &r) {
    char msg[200];
    char *text = printed(r, false);
    for (int i = 0; i < kFields; i++) {
        const Field::Text &t = kField[i].text;
        if (!t.at) continue;
        snprintf(msg, sizeof msg, "%s: a place in the text, and a label or a line", kField[i].key);
        check(t.label || t.line, msg);
        char line[64];
        snprintf(line, sizeof line, "\n  %s ", t.label ? t.label : "");
        snprintf(msg, sizeof msg, "%s: its text line \"%s\" printed", kField[i].key, t.label ? t.label : "");
        check(!t.label || (t.when && !t.when(r)) || strstr(text, line), msg);
    }
    free(text);
}

static void check_table() {
    char msg[200];
    ta = Report{}, tb = Report{};
    for (int i = 0; i < kFields; i++) {
        set_field(kField[i], ta, value_of(i, 1), 1);
        // The rules that keep equal values see equal ones here; each differs below.
        bool alike = kField[i].merge == M_SAME_OR || kField[i].merge == M_REFUSE;
        set_field(kField[i], tb, value_of(i, alike ? 1 : 2), 2);
    }
    for (int i = 0; i < kFields; i++) {
        const Field &f = kField[i];
        snprintf(msg, sizeof msg, "%s: a value that is not zero", f.key);
        Report zero{};
        check(!member(f) || !same_field(f, ta, zero), msg);
        if (f.json_if) {
            snprintf(msg, sizeof msg, "%s: written, its condition holding", f.key);
            check(f.json_if(ta) || f.merge == M_REFUSE, msg);  // a kind is never written
        }
    }
    // The text report in every mode (held prints more lines than one-shot).
    for (int i = 0; i < kFields; i++)
        for (int v = 0; kField[i].kind == K_ENUM && v < kField[i].n; v++) {
            tc = ta;
            kField[i].set(tc, (uint64_t)v);
            check_text(tc);
        }
    check_round_trip(ta, "table, side a");
    check_round_trip(tb, "table, side b");
    tm = ta, texp = ta;
    for (int i = 0; i < kFields; i++) expect_merged(kField[i], texp, ta, tb);
    check(!merge_report(&tm, tb), "table: reports alike merge");
    check_merged(tm, texp, "table");
    check_round_trip(tm, "table, merged");
    // Each field that must agree, made to differ on its own: the mark, or a refusal
    // that leaves the report as it was.
    for (int i = 0; i < kFields; i++) {
        const Field &f = kField[i];
        if (f.merge != M_SAME_OR && f.merge != M_REFUSE) continue;
        if (!member(f) && f.kind != K_ENUM) continue;  // a figure: from other fields
        for (int v = 0; v < (f.kind == K_ENUM ? f.n - 1 : 1); v++) {
            tc = tb;
            if (f.kind == K_ENUM) f.set(tc, (uint64_t)v);
            else set_field(f, tc, value_of(i, 2), 2);
            tm = ta, texp = ta;
            for (int k = 0; k < kFields; k++) expect_merged(kField[k], texp, ta, tc);
            const Field *refused = merge_report(&tm, tc);
            char what[120];
            snprintf(what, sizeof what, "table, %s differing (%d)", f.key, v);
            if (refused) {
                // Refused by this field, or by a kind computed from it.
                snprintf(msg, sizeof msg, "%s: refused by a field that must agree, %s", what, refused->key);
                check(refused->merge == M_REFUSE && (refused == &f || !member(*refused)), msg);
                for (int k = 0; k < kFields; k++) {
                    snprintf(msg, sizeof msg, "%s: refused, %s is as it was", what, kField[k].key);
                    check(same_field(kField[k], tm, ta), msg);
                }
                continue;
            }
            snprintf(msg, sizeof msg, "%s: merged, though the field must agree", what);
            check(f.merge == M_SAME_OR, msg);
            check_merged(tm, texp, what);
            check_round_trip(tm, what);
        }
    }
    // The kinds of run: one-shot and held reports are refused, naming both.
    tc = ta;
    tc.held = !ta.held, tc.blocking = false;
    tm = ta;
    const Field *k = merge_report(&tm, tc);
    check(k && !strcmp(k->key, "kind") && strcmp(field_text(*k, ta), field_text(*k, tc)) != 0,
          "a one-shot and a held report are refused as of different kinds");
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
    check_table();
    printf("%s\n", failures ? "unit_report: FAILED" : "unit_report: ok");
    return failures ? 1 : 0;
}
