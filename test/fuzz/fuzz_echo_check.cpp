// The client's echo check (echo_piece) and the timestamp line (encode_ts,
// decode_ts). Input: a timestamp, a stream of reply bytes (the request itself,
// mutated or not, or garbage), and the sizes the stream arrives in. Oracles:
// - the reply in those pieces gets the verdict of the reply in one piece;
// - decode_ts agrees with a reference decoder, and undoes encode_ts.
#include "../../common/clock.h"
#include "fuzz.h"

namespace {

// "<1 to 20 decimal digits>\n" of value at most 2^64-1, written out in full.
bool ref_decode(const uint8_t *s, size_t len, uint64_t *v) {
    if (len < 2 || len > 21 || s[len - 1] != '\n') return false;
    unsigned __int128 x = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        x = x * 10 + (s[i] - '0');
    }
    if (x > UINT64_MAX) return false;
    *v = (uint64_t)x;
    return true;
}

// The whole stream at once: the echo is exact, or it is not.
int verdict_whole(const char *tx, int tx_len, const char *reply, size_t len) {
    if (len < (size_t)tx_len) return 0;  // incomplete: still waiting
    return len == (size_t)tx_len && memcmp(tx, reply, len) == 0 ? 1 : -1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // The decoder alone, on the raw input.
    uint64_t got, want;
    bool ok = decode_ts((const char *)data, (int)(size > 64 ? 64 : size), &got);
    bool ref = ref_decode(data, size > 64 ? 64 : size, &want);
    FUZZ_CHECK(ok == ref, "decode_ts says %d, the reference %d", ok, ref);
    FUZZ_CHECK(!ok || got == want, "decode_ts %llu, the reference %llu", (unsigned long long)got,
               (unsigned long long)want);

    Bytes in{data, size};
    uint64_t ts = in.take(8);
    int mode = (int)in.take(1);
    char tx[24];
    int tx_len = encode_ts(ts, tx);
    FUZZ_CHECK(tx_len >= 2 && tx_len <= 21, "encode_ts wrote %d bytes", tx_len);
    uint64_t back;
    FUZZ_CHECK(decode_ts(tx, tx_len, &back) && back == ts, "encode_ts(%llu) does not decode back",
               (unsigned long long)ts);

    // The reply: the request, then (mode) one byte changed, cut short, or extra
    // bytes; or the input's own bytes.
    char reply[96];
    size_t len = 0;
    size_t nsplit = in.take(1) % 8;
    if (mode % 4 == 3) {
        len = in.take(1) % 40;
        for (size_t i = 0; i < len; i++) reply[i] = (char)in.take(1);
    } else {
        memcpy(reply, tx, (size_t)tx_len);
        len = (size_t)tx_len;
        if (mode % 4 == 1) reply[in.take(1) % len] ^= (char)(in.take(1) | 1);
        if (mode % 4 == 2) len = in.take(1) % (len + 1);
        if (mode & 4) for (int i = (int)(in.take(1) % 8); i > 0; i--) reply[len++] = (char)in.take(1);
    }

    // In pieces, as recv() gives them; a piece past a whole echo is a stray byte,
    // which the client also counts as a mismatch.
    char rx[24];
    int rx_len = 0, split = 0;
    size_t off = 0;
    while (off < len && rx_len >= 0) {
        size_t piece = split++ < (int)nsplit ? 1 + in.take(1) % 24 : len - off;
        if (piece > len - off) piece = len - off;
        if (rx_len == tx_len) {
            rx_len = -1;  // stray
            break;
        }
        rx_len = echo_piece(tx, tx_len, rx, rx_len, reply + off, (int)piece);
        off += piece;
    }
    int split_verdict = rx_len < 0 ? -1 : rx_len == tx_len ? 1 : 0;
    int whole = verdict_whole(tx, tx_len, reply, len);
    FUZZ_CHECK(split_verdict == whole, "in %zu pieces the verdict is %d, whole %d (reply of %zu bytes "
               "to a %d-byte request)", nsplit + 1, split_verdict, whole, len, tx_len);
    return 0;
}
