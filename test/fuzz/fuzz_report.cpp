// parse_report, the reader of --merge input. Oracles: no crash or undefined
// behaviour on any text; a failed parse leaves *r as it was; and a report that
// parses, printed as JSON and parsed again, is the same report (every count and
// bucket equal, and it prints the same text).
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../../cli/flood.h"
#include "../lib/report_util.h"
#include "fuzz.h"

namespace {

Report first, second, canary;  // 60 KiB each: not on the stack

char *to_json(const Report &r) { return printed_report(r, true); }

// The first field that differs, or null.
const char *differs(const Report &a, const Report &b) {
    for (int i = 0; i < F_COUNT; i++)
        if (a.failures[i] != b.failures[i] || a.connect_failures[i] != b.connect_failures[i] ||
            a.drops[i] != b.drops[i])
            return "a failure count";
#define SAME(f) if (a.f != b.f) return #f
    SAME(reports); SAME(held); SAME(blocking); SAME(requests); SAME(concurrency);
    SAME(per_conn); SAME(rate); SAME(succeeded); SAME(failed); SAME(connections);
    SAME(peak_open); SAME(connect_failed); SAME(dropped);
#undef SAME
    if (strcmp(a.target, b.target)) return "target";
    if (const char *h = hist_differs(a.latency, b.latency)) return h;
    if (const char *h = hist_differs(a.service, b.service)) return h;
    return nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = (char *)malloc(size + 1);  // exact size: ASan sees any read past the end
    memcpy(text, data, size);
    text[size] = '\0';
    char err[160];
    canary = Report{};
    canary.requests = 4242;
    first = canary;
    bool ok = parse_report(text, &first, err, sizeof err);
    free(text);
    if (!ok) {
        FUZZ_CHECK(!memcmp(&first, &canary, sizeof first), "a failed parse (%s) changed *r", err);
        FUZZ_CHECK(memchr(err, '\0', sizeof err) && err[0], "a failed parse gave no reason");
        return 0;
    }
    char *json = to_json(first);
    bool again = parse_report(json, &second, err, sizeof err);
    FUZZ_CHECK(again, "the report printed back does not parse: %s: %s", err, json);
    char *json2 = to_json(second);
    FUZZ_CHECK(!strcmp(json, json2), "printed twice it differs:\n%s%s", json, json2);
    const char *what = differs(first, second);
    FUZZ_CHECK(!what, "printed and read back, its %s differs: %s", what, json);
    free(json);
    free(json2);
    return 0;
}
