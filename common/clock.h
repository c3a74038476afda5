#pragma once
#include <cstdint>
#include <ctime>

inline uint64_t mono_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// Milliseconds since start_ns, for idle timeouts (-t). Wraps after 49 days;
// differences of two readings stay right across the wrap.
inline uint32_t ms_since(uint64_t start_ns) {
    return (uint32_t)((mono_ns() - start_ns) / 1000000u);
}

// Wire format: CLOCK_MONOTONIC nanoseconds, ASCII decimal, then '\n'.
// Returns the length written (at most 21 bytes: 20 digits and the newline).
int encode_ts(uint64_t ns, char *out);
// Parses "<digits>\n" of exactly `len` bytes; false on anything else.
bool decode_ts(const char *in, int len, uint64_t *ns);

// A request (cli_flood -l): the timestamp's digits, then a fixed pattern, then '\n',
// `size` bytes in all; a line too short for every digit keeps the last ones, which
// change fastest. Size 0 is the bare timestamp line. Byte j past the digits is the
// same in every request, so one in flight costs its digits and an offset, whatever
// its size: the pattern is built once.
struct Request {
    uint32_t len;       // bytes in all
    uint8_t head_len;   // the digits
    char head[20];
};
constexpr uint32_t kMaxRequest = 1u << 20;
// Once per process, before request_make; size 0 or 16 .. kMaxRequest. False if the
// pattern cannot be allocated.
bool request_init(uint32_t size);
void request_make(uint64_t ts, Request *q);
// Instead of request_init: every request is these len bytes (1 .. kMaxRequest),
// copied, with no timestamp in them (cli_flood --http, --send).
bool request_init_fixed(const char *bytes, uint32_t len);
// The bytes of q from off on (off < q.len), as at most two pieces: the rest of the
// digits and the rest of the pattern. Returns how many.
struct iovec;
int request_pieces(const Request &q, uint32_t off, struct iovec *iov);
// The echo check, as the reply streams in: whether piece[0..n) are q's bytes from
// off on. False for other bytes, and for more than q has.
bool request_match(const Request &q, uint32_t off, const char *piece, uint32_t n);
// Byte j of every request of `size` bytes past its digits (the pattern), for tests.
char request_pattern(uint32_t j);
