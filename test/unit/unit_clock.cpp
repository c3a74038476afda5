// Timestamp wire format: encode and decode round-trip, and bad input is refused.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "../../common/clock.h"
#include "../../common/util.h"

static int failures;
#define CHECK(cond)                                        \
    do {                                                   \
        if (!(cond)) {                                     \
            printf("FAIL line %d: %s\n", __LINE__, #cond); \
            failures++;                                    \
        }                                                  \
    } while (0)

int main() {
    char buf[32];
    uint64_t v;
    const uint64_t cases[] = {0, 1, 9, 10, 42, 1234567890123ull, UINT64_MAX};
    for (uint64_t c : cases) {
        int n = encode_ts(c, buf);
        CHECK(buf[n - 1] == '\n');
        CHECK(decode_ts(buf, n, &v) && v == c);
    }
    CHECK(encode_ts(42, buf) == 3 && memcmp(buf, "42\n", 3) == 0);
    CHECK(encode_ts(UINT64_MAX, buf) == 21);
    CHECK(!decode_ts("42", 2, &v));                     // no newline
    CHECK(!decode_ts("\n", 1, &v));                     // no digits
    CHECK(!decode_ts("4x\n", 3, &v));                   // not a number
    CHECK(!decode_ts("-1\n", 3, &v));
    CHECK(!decode_ts("18446744073709551616\n", 21, &v));  // UINT64_MAX + 1
    CHECK(!decode_ts("123456789012345678901\n", 22, &v)); // too long
    uint64_t a = mono_ns(), b = mono_ns();
    CHECK(b >= a && a > 0);

    // Bounded number parsing, the strtonum(3) contract.
    long long n;
    const char *why;
    CHECK(parse_num("10", 1, 100, &n, &why) && n == 10);
    CHECK(!parse_num("0", 1, 100, &n, &why) && strcmp(why, "too small") == 0);
    CHECK(!parse_num("101", 1, 100, &n, &why) && strcmp(why, "too large") == 0);
    CHECK(!parse_num("99999999999999999999999", 1, 100, &n, &why) && strcmp(why, "too large") == 0);
    CHECK(!parse_num("1x", 1, 100, &n, &why) && strcmp(why, "invalid") == 0);
    CHECK(!parse_num("", 1, 100, &n, &why) && strcmp(why, "invalid") == 0);

    printf("%s\n", failures ? "unit_clock: FAILED" : "unit_clock: ok");
    return failures ? 1 : 0;
}
