// What the fuzz targets share: a reader of the fuzzer's bytes, and a check that
// says what went wrong before it aborts (so the crash says why). It writes to
// descriptor 2, not stderr: fuzz_args points stderr at /dev/null to keep the
// usage messages of a million bad command lines out of the log.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#define FUZZ_CHECK(cond, ...)                                               \
    do {                                                                    \
        if (!(cond)) {                                                      \
            dprintf(2, "fuzz check failed: %s: ", #cond);              \
            dprintf(2, __VA_ARGS__);                                   \
            dprintf(2, "\n");                                          \
            abort();                                                        \
        }                                                                   \
    } while (0)

// Takes numbers and byte runs off the front of the input; 0s once it is used up.
struct Bytes {
    const uint8_t *p;
    size_t n;
    uint64_t take(int bytes) {
        uint64_t v = 0;
        for (int i = 0; i < bytes && n; i++, p++, n--) v = v << 8 | *p;
        return v;
    }
    size_t left() const { return n; }
};
