// The client's requests and echo check (request_make, request_pieces,
// request_match) and the timestamp line (encode_ts, decode_ts). Input: a
// timestamp, a request size (-l), a stream of reply bytes (the request itself,
// mutated or not, or garbage), and the sizes the stream arrives in. Oracles:
// - the request is the format's bytes, and its pieces from any offset are its rest;
// - the reply in those pieces gets the verdict of the reply in one piece;
// - decode_ts agrees with a reference decoder, and undoes encode_ts.
#include <sys/uio.h>

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

// The pattern past the digits, as cli_flood(1) describes it.
char ref_pattern(uint32_t j) {
    static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    return kAlphabet[(uint32_t)(j * 2654435761u) >> 26];
}

// The whole stream at once: an exact echo, a true prefix of one (still waiting),
// or not an echo.
int verdict_whole(const char *tx, int tx_len, const char *reply, size_t len) {
    if (len < (size_t)tx_len) return memcmp(tx, reply, len) == 0 ? 0 : -1;
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

    // A request of -l size (0: the bare line), and what it must be, built here
    // from the format's description.
    uint32_t sel = (uint32_t)(in.take(2) % 700), req_size = sel < 100 ? 0 : sel - 84;
    static uint32_t inited = UINT32_MAX;
    if (req_size != inited) {
        FUZZ_CHECK(request_init(req_size), "request_init(%u)", req_size);
        inited = req_size;
    }
    Request q;
    request_make(ts, &q);
    char want_req[700];
    int digits = tx_len - 1;
    int keep = req_size && digits > (int)req_size - 1 ? (int)req_size - 1 : digits;
    size_t ref_len = req_size ? req_size : (size_t)keep + 1;
    memcpy(want_req, tx + digits - keep, (size_t)keep);
    for (size_t j = (size_t)keep; j + 1 < ref_len; j++) want_req[j] = ref_pattern((uint32_t)j);
    want_req[ref_len - 1] = '\n';
    FUZZ_CHECK(q.len == ref_len, "request of %u bytes, %zu expected (size %u)", q.len, ref_len, req_size);
    // What request_pieces hands to sendmsg, from any offset.
    uint32_t from = (uint32_t)(in.take(2) % ref_len);
    iovec iov[2];
    int n = request_pieces(q, from, iov);
    char sent[700];
    size_t sent_len = 0;
    for (int k = 0; k < n; k++) {
        FUZZ_CHECK(sent_len + iov[k].iov_len <= sizeof sent, "pieces longer than the request");
        memcpy(sent + sent_len, iov[k].iov_base, iov[k].iov_len);
        sent_len += iov[k].iov_len;
    }
    FUZZ_CHECK(sent_len == ref_len - from && memcmp(sent, want_req + from, sent_len) == 0,
               "the pieces from %u are not the request's bytes (size %u)", from, req_size);

    // The reply: the request, then (mode) one byte changed, cut short, or extra
    // bytes; or the input's own bytes.
    char reply[720];
    size_t len = 0;
    size_t nsplit = in.take(1) % 8;
    if (mode % 4 == 3) {
        len = in.take(1) % 40;
        for (size_t i = 0; i < len; i++) reply[i] = (char)in.take(1);
    } else {
        memcpy(reply, want_req, ref_len);
        len = ref_len;
        if (mode % 4 == 1) reply[in.take(2) % len] ^= (char)(in.take(1) | 1);
        if (mode % 4 == 2) len = in.take(2) % (len + 1);
        if (mode & 4) for (int i = (int)(in.take(1) % 8); i > 0; i--) reply[len++] = (char)in.take(1);
    }

    // In pieces, as recv() gives them, checked as the client does: each piece must
    // be the request's next bytes, and none may come past its end.
    uint32_t off = 0, split = 0;
    int verdict = 0;
    size_t at = 0;
    while (at < len && verdict == 0) {
        size_t piece = split++ < nsplit ? 1 + in.take(2) % 256 : len - at;
        if (piece > len - at) piece = len - at;
        if (!request_match(q, off, reply + at, (uint32_t)piece)) verdict = -1;
        off += (uint32_t)piece;
        at += piece;
        if (verdict == 0 && off == q.len) verdict = at == len ? 1 : -1;  // more after it: stray
    }
    int whole = verdict_whole(want_req, (int)ref_len, reply, len);
    FUZZ_CHECK(verdict == whole, "in %zu pieces the verdict is %d, whole %d (reply of %zu bytes "
               "to a %zu-byte request)", nsplit + 1, verdict, whole, len, ref_len);
    return 0;
}
