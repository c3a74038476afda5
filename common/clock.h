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

// The client's echo check: piece[0..n) is the next part of the reply to request
// tx[0..tx_len) (an encode_ts line), gathered in rx, which holds rx_len bytes so far
// and has room for tx_len. Returns the bytes gathered now; tx_len means the whole
// echo came back, exact and a valid line. -1: not an echo of tx (more bytes than it,
// or other ones).
int echo_piece(const char *tx, int tx_len, char *rx, int rx_len, const char *piece, int n);
