// HTTP/1.1 responses, --expect and --until, as flood_proto.h says. The HTTP check
// is a state machine over RFC 9112's response grammar, strict where a lenient
// reading would frame the stream wrongly (two Content-Lengths, Content-Length
// with Transfer-Encoding, folded headers, no framing at all), lenient where
// servers differ harmlessly (a bare LF for CRLF, no reason phrase).
#include "flood_proto.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <sys/uio.h>

#include "../common/clock.h"

Proto g_proto = P_ECHO;


namespace {

enum HttpState : uint8_t {
    H_VERSION, H_CODE, H_REASON, H_LINE, H_NAME, H_VALUE, H_CL, H_TE, H_CONN, H_BODY,
    H_CHUNK_SIZE, H_CHUNK_EXT, H_CHUNK_DATA, H_CHUNK_END, H_TRAILER_LINE, H_TRAILER,
    H_CR, H_DONE,
};
enum : uint16_t {
    F_HAVE_CL = 1, F_HAVE_TE = 2, F_CHUNKED = 4,
    F_MAYBE_CL = 8, F_MAYBE_TE = 16, F_MAYBE_CONN = 128,  // the header name so far is a prefix of it
    F_DIGITS = 32,                    // a number has begun
    F_TOKEN_END = 64,                 // whitespace after a token (of a list)
    F_CLOSE = 256, F_KEEP_ALIVE = 512,  // Connection: close, keep-alive
    F_HTTP10 = 1024,
    F_CONN_KA = 2048,  // the Connection token being read may be keep-alive, not close
};
constexpr char kVersion[] = "HTTP/1.";
constexpr char kCl[] = "content-length", kTe[] = "transfer-encoding", kConn[] = "connection";
constexpr char kChunked[] = "chunked", kClose[] = "close", kKeepAlive[] = "keep-alive";

// Token matching in a list (Transfer-Encoding, Connection): sub counts the bytes of
// the token matched so far against `want`, 255 once it differs.
void token_byte(HttpReply *h, int c, const char *want) {
    size_t len = strlen(want);
    if ((h->flags & F_TOKEN_END) || h->sub >= len || (c >= 'A' && c <= 'Z' ? c + 32 : c) != want[h->sub])
        h->sub = 255;
    else
        h->sub++;
}

int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
bool is_ows(int c) { return c == ' ' || c == '\t'; }
// Field values and reasons: visible ASCII, space, tab, and obs-text; no other controls.
bool is_text(int c) { return c >= 0x20 ? c != 0x7f : c == '\t'; }
bool is_tchar(int c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}
int hex(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// The blank line that ends the head: what frames the body.
Verdict head_end(HttpReply *h) {
    if (h->status < 200 && h->status != 101) {  // interim (100 Continue): the response follows
        h->state = H_VERSION;
        h->sub = 0;
        h->flags = 0;
        h->left = 0;
        return V_MORE;
    }
    if (h->status == 101) return V_BAD;  // switched protocols: no response to count
    if ((h->flags & F_HAVE_CL) && (h->flags & F_HAVE_TE)) return V_BAD;  // RFC 9112 6.1: smuggling
    if (h->status == 204 || h->status == 304) return V_DONE;
    if (h->flags & F_HAVE_TE) {
        if (!(h->flags & F_CHUNKED)) return V_BAD;  // framed by the close: not for keep-alive
        h->state = H_CHUNK_SIZE;
        h->meta = 0;
        h->sub = 0;
        h->flags &= (uint16_t)~F_DIGITS;
        return V_MORE;
    }
    if (!(h->flags & F_HAVE_CL)) return V_BAD;
    if (h->left == 0) return V_DONE;
    h->state = H_BODY;
    return V_MORE;
}

// A token of Connection ended (at a comma or the line's end).
void conn_token_end(HttpReply *h) {
    if (h->sub == 5 && !(h->flags & F_CONN_KA)) h->flags |= F_CLOSE;
    if (h->sub == 10 && (h->flags & F_CONN_KA)) h->flags |= F_KEEP_ALIVE;
}

// The LF that ends a line of state s.
Verdict line_end(HttpReply *h) {
    switch (h->state) {
    case H_CODE:
        if (h->sub != 3) return V_BAD;
        [[fallthrough]];
    case H_REASON: h->state = H_LINE; return V_MORE;
    case H_LINE: return head_end(h);
    case H_VALUE: h->state = H_LINE; return V_MORE;
    case H_CL:
        if (!(h->flags & F_DIGITS)) return V_BAD;
        h->state = H_LINE;
        return V_MORE;
    case H_TE:
        if (h->sub == 7) h->flags |= F_CHUNKED;
        else h->flags &= (uint16_t)~F_CHUNKED;  // the last coding must be chunked
        h->state = H_LINE;
        return V_MORE;
    case H_CONN:
        conn_token_end(h);
        h->state = H_LINE;
        return V_MORE;
    case H_CHUNK_SIZE:
        if (!(h->flags & F_DIGITS)) return V_BAD;
        [[fallthrough]];
    case H_CHUNK_EXT:
        h->meta = 0;
        h->state = h->left ? H_CHUNK_DATA : H_TRAILER_LINE;
        return V_MORE;
    case H_CHUNK_END: h->state = H_CHUNK_SIZE; h->meta = 0; h->sub = 0;
        h->flags &= (uint16_t)~F_DIGITS;
        return V_MORE;
    case H_TRAILER_LINE: return V_DONE;
    case H_TRAILER: h->state = H_TRAILER_LINE; return V_MORE;
    default: return V_BAD;  // the version or a header name cut off by a line end
    }
}

// One byte of the head, a chunk-size line or the trailers.
Verdict http_byte(HttpReply *h, int c) {
    if (h->state == H_CR) {
        if (c != '\n') return V_BAD;
        h->state = h->ret;
    } else if (c == '\r' && h->state != H_VERSION) {
        h->ret = h->state;
        h->state = H_CR;
        return V_MORE;
    }
    if (c == '\n') return line_end(h);
    switch (h->state) {
    case H_VERSION:
        if (h->sub < 7) {
            if (c != kVersion[h->sub]) return V_BAD;
        } else if (h->sub == 7) {
            if (c != '0' && c != '1') return V_BAD;
            if (c == '0') h->flags |= F_HTTP10;
        } else {
            if (c != ' ') return V_BAD;
            h->state = H_CODE;
            h->sub = 0;
            h->status = 0;
            return V_MORE;
        }
        h->sub++;
        return V_MORE;
    case H_CODE:
        if (h->sub == 3) {
            if (c != ' ') return V_BAD;
            h->state = H_REASON;
            return V_MORE;
        }
        if (c < '0' || c > '9' || (h->sub == 0 && (c < '1' || c > '5'))) return V_BAD;
        h->status = (uint16_t)(h->status * 10 + (c - '0'));
        h->sub++;
        return V_MORE;
    case H_REASON: return is_text(c) ? V_MORE : V_BAD;
    case H_LINE:  // a header begins; a line that begins with whitespace is folded: refused
        h->sub = 0;
        h->flags |= F_MAYBE_CL | F_MAYBE_TE | F_MAYBE_CONN;
        h->state = H_NAME;
        [[fallthrough]];
    case H_NAME:
        if (c == ':') {
            if (h->sub == 0) return V_BAD;
            if ((h->flags & F_MAYBE_CL) && h->sub == 14) {
                if (h->flags & F_HAVE_CL) return V_BAD;  // a second one: which frames the body?
                h->flags |= F_HAVE_CL;
                h->flags &= (uint16_t)~(F_DIGITS | F_TOKEN_END);
                h->left = 0;
                h->state = H_CL;
            } else if ((h->flags & F_MAYBE_TE) && h->sub == 17) {
                h->flags |= F_HAVE_TE;
                h->flags &= (uint16_t)~F_TOKEN_END;
                h->sub = 0;
                h->state = H_TE;
            } else if ((h->flags & F_MAYBE_CONN) && h->sub == 10) {
                h->flags &= (uint16_t)~F_TOKEN_END;
                h->sub = 0;
                h->state = H_CONN;
            } else {
                h->state = H_VALUE;
            }
            return V_MORE;
        }
        if (!is_tchar(c)) return V_BAD;
        if (h->sub >= 14 || lower(c) != kCl[h->sub]) h->flags &= (uint16_t)~F_MAYBE_CL;
        if (h->sub >= 17 || lower(c) != kTe[h->sub]) h->flags &= (uint16_t)~F_MAYBE_TE;
        if (h->sub >= 10 || lower(c) != kConn[h->sub]) h->flags &= (uint16_t)~F_MAYBE_CONN;
        if (h->sub < 255) h->sub++;
        return V_MORE;
    case H_VALUE: return is_text(c) ? V_MORE : V_BAD;
    case H_CL:
        if (is_ows(c)) {
            if (h->flags & F_DIGITS) h->flags |= F_TOKEN_END;
            return V_MORE;
        }
        if (c < '0' || c > '9' || (h->flags & F_TOKEN_END)) return V_BAD;
        if (h->left > (1ull << 56)) return V_BAD;  // no body is that long: garbage
        h->left = h->left * 10 + (uint64_t)(c - '0');
        h->flags |= F_DIGITS;
        return V_MORE;
    case H_TE:
        if (is_ows(c)) {
            if (h->sub) h->flags |= F_TOKEN_END;
            return V_MORE;
        }
        if (c == ',') {
            h->sub = 0;
            h->flags &= (uint16_t)~F_TOKEN_END;
            return V_MORE;
        }
        if (!is_text(c)) return V_BAD;
        token_byte(h, c, kChunked);
        return V_MORE;
    case H_CONN:
        if (is_ows(c)) {
            if (h->sub) h->flags |= F_TOKEN_END;
            return V_MORE;
        }
        if (c == ',') {
            conn_token_end(h);
            h->sub = 0;
            h->flags &= (uint16_t)~F_TOKEN_END;
            return V_MORE;
        }
        if (!is_text(c)) return V_BAD;
        if (h->sub == 0) {  // the first byte says which of the two it may be
            if (lower(c) == 'k') h->flags |= F_CONN_KA;
            else h->flags &= (uint16_t)~F_CONN_KA;
        }
        token_byte(h, c, (h->flags & F_CONN_KA) ? kKeepAlive : kClose);
        return V_MORE;
    case H_CHUNK_SIZE: {
        int d = hex(c);
        if (d >= 0 && h->sub == 0) {
            if (h->left >> 56) return V_BAD;
            h->left = h->left << 4 | (uint64_t)d;
            h->flags |= F_DIGITS;
            return V_MORE;
        }
        if (!(h->flags & F_DIGITS)) return V_BAD;
        if (is_ows(c)) {
            h->sub = 1;  // whitespace before an extension: no more digits
            return V_MORE;
        }
        if (c != ';') return V_BAD;
        h->state = H_CHUNK_EXT;
        return V_MORE;
    }
    case H_CHUNK_EXT: return is_text(c) ? V_MORE : V_BAD;
    case H_CHUNK_END: return V_BAD;  // the chunk was longer than its size
    case H_TRAILER_LINE:
        h->state = H_TRAILER;
        [[fallthrough]];
    case H_TRAILER: return is_text(c) ? V_MORE : V_BAD;
    default: return V_BAD;
    }
}

}  // namespace

bool http_closes(const HttpReply &h) {
    return (h.flags & F_CLOSE) || ((h.flags & F_HTTP10) && !(h.flags & F_KEEP_ALIVE));
}

Verdict http_feed(HttpReply *h, const char *p, size_t n, size_t *used) {
    size_t i = 0;
    while (i < n) {
        if (h->state == H_DONE) return V_BAD;
        if (h->state == H_BODY || h->state == H_CHUNK_DATA) {
            // The body is counted past, never kept: its bytes are the server's business.
            size_t take = h->left < n - i ? (size_t)h->left : n - i;
            h->left -= take;
            i += take;
            if (h->left) break;
            if (h->state == H_BODY) {
                h->state = H_DONE;
                *used = i;
                return V_DONE;
            }
            h->state = H_CHUNK_END;
            continue;
        }
        if (++h->meta > kHttpHeadMax) return V_BAD;
        Verdict v = http_byte(h, (unsigned char)p[i++]);
        if (v == V_BAD) return V_BAD;
        if (v == V_DONE) {
            h->state = H_DONE;
            *used = i;
            return V_DONE;
        }
    }
    *used = n;
    return V_MORE;
}

namespace {

bool g_until;
char g_frame[kMaxFrame];
uint32_t g_frame_len;
uint32_t g_fail[kMaxFrame];  // KMP: the longest proper prefix of frame[0..j] that is its suffix

}  // namespace

bool frame_init(bool until, const char *bytes, uint32_t len) {
    if (len == 0 || len > kMaxFrame) return false;
    g_until = until;
    memcpy(g_frame, bytes, len);
    g_frame_len = len;
    g_fail[0] = 0;
    for (uint32_t j = 1, k = 0; j < len; j++) {
        while (k && bytes[j] != bytes[k]) k = g_fail[k - 1];
        if (bytes[j] == bytes[k]) k++;
        g_fail[j] = k;
    }
    return true;
}

Verdict frame_feed(uint32_t *state, const char *p, size_t n, size_t *used) {
    uint32_t k = *state;
    if (!g_until) {
        size_t want = g_frame_len - k;
        size_t take = n < want ? n : want;
        if (memcmp(p, g_frame + k, take) != 0) return V_BAD;
        *state = k + (uint32_t)take;
        *used = take;
        return *state == g_frame_len ? V_DONE : V_MORE;
    }
    if (g_frame_len == 1) {  // a line: memchr is the whole search
        const char *at = (const char *)memchr(p, g_frame[0], n);
        *used = at ? (size_t)(at - p) + 1 : n;
        return at ? V_DONE : V_MORE;
    }
    for (size_t i = 0; i < n; i++) {
        while (k && p[i] != g_frame[k]) k = g_fail[k - 1];
        if (p[i] == g_frame[k]) k++;
        if (k == g_frame_len) {
            *state = 0;
            *used = i + 1;
            return V_DONE;
        }
    }
    *state = k;
    *used = n;
    return V_MORE;
}

long decode_escapes(const char *arg, char *out, char *err, size_t errlen) {
    long n = 0;
    for (const char *s = arg; *s; s++) {
        if (*s != '\\') {
            out[n++] = *s;
            continue;
        }
        long at = (long)(s - arg);
        switch (*++s) {
        case 'r': out[n++] = '\r'; break;
        case 'n': out[n++] = '\n'; break;
        case 't': out[n++] = '\t'; break;
        case '\\': out[n++] = '\\'; break;
        case 'x': {
            int hi = s[1] ? hex(s[1]) : -1, lo = hi >= 0 && s[2] ? hex(s[2]) : -1;
            if (lo < 0) {
                snprintf(err, errlen, "\\x at byte %ld needs two hex digits", at);
                return -1;
            }
            out[n++] = (char)(hi << 4 | lo);
            s += 2;
            break;
        }
        case '\0':
            snprintf(err, errlen, "a lone \\ at the end (write \\\\ for a backslash)");
            return -1;
        default:
            snprintf(err, errlen, "unknown escape \\%c at byte %ld (\\r \\n \\t \\\\ \\xHH)", *s, at);
            return -1;
        }
    }
    return n;
}

bool option_bytes(const char *arg, uint32_t max, char **out, uint32_t *len, char *err, size_t errlen) {
    if (arg[0] == '@') {
        FILE *f = fopen(arg + 1, "rb");
        if (!f) {
            snprintf(err, errlen, "%s: %s", arg + 1, strerror(errno));
            return false;
        }
        char *buf = (char *)malloc((size_t)max + 1);
        size_t n = buf ? fread(buf, 1, (size_t)max + 1, f) : 0;
        bool bad = !buf || ferror(f);
        fclose(f);
        if (bad || n > max) {
            snprintf(err, errlen, "%s: %s", arg + 1, bad ? "cannot read it" : "longer than the limit");
            free(buf);
            return false;
        }
        if (n == 0) {
            snprintf(err, errlen, "%s: the file is empty", arg + 1);
            free(buf);
            return false;
        }
        *out = buf;
        *len = (uint32_t)n;
        return true;
    }
    size_t alen = strlen(arg);
    char *buf = (char *)malloc(alen + 1);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    long n = decode_escapes(arg, buf, err, errlen);
    if (n == 0) snprintf(err, errlen, "no bytes: name at least one");
    if (n > (long)max) snprintf(err, errlen, "%ld bytes, over the limit of %u", n, max);
    if (n <= 0 || n > (long)max) {
        free(buf);
        return false;
    }
    *out = buf;
    *len = (uint32_t)n;
    return true;
}

bool http_request(const char *path, const char *host, int port, const char *const *headers,
                  int nheaders, char **out, uint32_t *len, char *err, size_t errlen) {
    if (path[0] != '/') {
        snprintf(err, errlen, "the path must begin with /: %s", path);
        return false;
    }
    for (const char *s = path; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f) {
            snprintf(err, errlen, "the path has a space or control character at byte %d "
                     "(write it %%-encoded)", (int)(s - path));
            return false;
        }
    size_t cap = strlen(path) + strlen(host) + 64;
    for (int i = 0; i < nheaders; i++) {
        const char *hd = headers[i];
        size_t name = 0;
        while (is_tchar((unsigned char)hd[name])) name++;
        if (!name || hd[name] != ':') {
            snprintf(err, errlen, "-H wants 'Name: value': %s", hd);
            return false;
        }
        for (const char *s = hd; *s; s++)
            if (!is_text((unsigned char)*s)) {
                snprintf(err, errlen, "-H: a control character at byte %d: %s", (int)(s - hd), hd);
                return false;
            }
        cap += strlen(hd) + 2;
    }
    char *buf = (char *)malloc(cap);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    bool v6 = strchr(host, ':') != nullptr;  // a literal IPv6 address goes in brackets
    int n = snprintf(buf, cap, "GET %s HTTP/1.1\r\nHost: %s%s%s:%d\r\n", path, v6 ? "[" : "", host,
                     v6 ? "]" : "", port);
    for (int i = 0; i < nheaders; i++) n += snprintf(buf + n, cap - (size_t)n, "%s\r\n", headers[i]);
    n += snprintf(buf + n, cap - (size_t)n, "\r\n");
    *out = buf;
    *len = (uint32_t)n;
    return true;
}

Verdict reply_feed(HttpReply *h, uint32_t *rx, const Request &q, uint32_t tx, const char *buf,
                   size_t n) {
    size_t used = n;
    Verdict v;
    if (g_proto == P_ECHO) {
        // More than was sent so far is not an echo, nor are other bytes.
        if (*rx + (uint64_t)n > tx || !request_match(q, *rx, buf, (uint32_t)n)) return V_BAD;
        *rx += (uint32_t)n;
        v = *rx == q.len ? V_DONE : V_MORE;
    } else if (g_proto == P_HTTP) {
        v = http_feed(h, buf, n, &used);
    } else {
        v = frame_feed(rx, buf, n, &used);
    }
    return v == V_DONE && used != n ? V_BAD : v;
}

void sent_text(char *out, size_t cap) {
    Request q;
    request_make(0, &q);
    iovec iov[2];
    int n = request_pieces(q, 0, iov);
    size_t at = 0;
    for (int k = 0; k < n; k++) {
        const unsigned char *b = (const unsigned char *)iov[k].iov_base;
        for (size_t i = 0; i < iov[k].iov_len; i++) {
            bool plain = b[i] >= 0x20 && b[i] < 0x7f && !strchr("%\"\\", b[i]);
            if (at + (plain ? 1 : 3) + 4 > cap) {
                snprintf(out + at, cap - at, "...");
                return;
            }
            if (plain) out[at++] = (char)b[i];
            else at += (size_t)snprintf(out + at, cap - at, "%%%02X", b[i]);
        }
    }
    out[at] = '\0';
}
