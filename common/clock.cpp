#include "clock.h"

#include <cstdlib>
#include <cstring>
#include <sys/uio.h>

int encode_ts(uint64_t ns, char *out) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + ns % 10);
        ns /= 10;
    } while (ns);
    for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = '\n';
    return n + 1;
}

bool decode_ts(const char *in, int len, uint64_t *ns) {
    if (len < 2 || len > 21 || in[len - 1] != '\n') return false;
    uint64_t v = 0;
    for (int i = 0; i < len - 1; i++) {
        unsigned d = (unsigned char)in[i] - '0';
        if (d > 9) return false;
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *ns = v;
    return true;
}

namespace {

char *g_body;        // the pattern, then '\n': the part of every request past its digits
uint32_t g_body_len;
uint32_t g_size;     // the request size, or 0
bool g_fixed;        // request_init_fixed: g_body is the whole request

// The pattern's tail that a request of len bytes ends with: a bare timestamp line
// ends with the '\n' alone.
const char *tail_of(uint32_t len) { return g_body + g_body_len - len; }

}  // namespace

char request_pattern(uint32_t j) {
    // A multiplicative hash of the offset: a byte lost, repeated or moved anywhere in
    // a megabyte is a mismatch, which a pattern of short period would hide.
    static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    return kAlphabet[(j * 2654435761u) >> 26];
}

bool request_init(uint32_t size) {
    g_size = size;
    g_fixed = false;
    g_body_len = size ? size : 1;
    // 20 bytes of slack before it: tail_of(len) of a bare line reaches back no further.
    static char *base;
    free(base);
    base = (char *)malloc(20 + (size_t)g_body_len);
    if (!base) return false;
    g_body = base + 20;
    for (uint32_t j = 0; j + 1 < g_body_len; j++) g_body[j] = request_pattern(j);
    g_body[g_body_len - 1] = '\n';
    return true;
}

bool request_init_fixed(const char *bytes, uint32_t len) {
    if (!request_init(len)) return false;
    memcpy(g_body, bytes, len);
    g_fixed = true;
    return true;
}

void request_make(uint64_t ts, Request *q) {
    if (g_fixed) {
        q->head_len = 0;
        q->len = g_size;
        return;
    }
    char line[24];
    uint32_t digits = (uint32_t)encode_ts(ts, line) - 1;
    uint32_t keep = g_size && digits > g_size - 1 ? g_size - 1 : digits;
    memcpy(q->head, line + digits - keep, keep);
    q->head_len = (uint8_t)keep;
    q->len = g_size ? g_size : keep + 1;
}

int request_pieces(const Request &q, uint32_t off, iovec *iov) {
    int n = 0;
    if (off < q.head_len) iov[n++] = {(void *)(q.head + off), (size_t)(q.head_len - off)};
    uint32_t from = off > q.head_len ? off : q.head_len;
    if (from < q.len) iov[n++] = {(void *)(tail_of(q.len) + from), (size_t)(q.len - from)};
    return n;
}

bool request_match(const Request &q, uint32_t off, const char *piece, uint32_t n) {
    if (off > q.len || n > q.len - off) return false;
    uint32_t in_head = off < q.head_len ? q.head_len - off : 0;
    if (in_head > n) in_head = n;
    if (in_head && memcmp(piece, q.head + off, in_head) != 0) return false;
    return memcmp(piece + in_head, tail_of(q.len) + off + in_head, n - in_head) == 0;
}
