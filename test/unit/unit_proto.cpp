// The reply checks of --http, --expect and --until, and the option bytes, with the
// replies cut at every place a recv() could cut them.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../../cli/flood_proto.h"

static int failures;

static void check(bool ok, const char *what) {
    if (!ok) {
        printf("FAIL %s\n", what);
        failures++;
    }
}

// The verdict on a whole stream fed in pieces of `piece` bytes: 'D' the reply ended
// exactly at its end, 'E' it ended earlier (bytes after it), 'M' more wanted, 'B' bad.
static char http_in(const std::string &s, size_t piece, uint16_t *status = nullptr) {
    HttpReply h = {};
    for (size_t at = 0; at < s.size(); at += piece) {
        size_t n = s.size() - at < piece ? s.size() - at : piece, used = 0;
        Verdict v = http_feed(&h, s.data() + at, n, &used);
        if (status) *status = h.status;
        if (v == V_BAD) return 'B';
        if (v == V_DONE) return at + used == s.size() ? 'D' : 'E';
        if (used != n) return '?';
    }
    return 'M';
}

// The same verdict however the stream is cut: in one piece, byte by byte, in 2, 3, 7.
static void http_case(const std::string &s, char want, const char *what, uint16_t status = 0) {
    const size_t pieces[] = {s.size() ? s.size() : 1, 1, 2, 3, 7};
    for (size_t p : pieces) {
        uint16_t got_status = 0;
        char got = http_in(s, p, &got_status);
        if (got != want || (status && got_status != status)) {
            printf("FAIL %s: in pieces of %zu: got %c status %u, want %c status %u\n", what, p, got,
                   got_status, want, status);
            failures++;
            return;
        }
    }
}

static char frame_in(bool until, const char *frame, const std::string &s, size_t piece) {
    frame_init(until, frame, (uint32_t)strlen(frame));
    uint32_t st = 0;
    for (size_t at = 0; at < s.size(); at += piece) {
        size_t n = s.size() - at < piece ? s.size() - at : piece, used = 0;
        Verdict v = frame_feed(&st, s.data() + at, n, &used);
        if (v == V_BAD) return 'B';
        if (v == V_DONE) return at + used == s.size() ? 'D' : 'E';
    }
    return 'M';
}

static void frame_case(bool until, const char *frame, const std::string &s, char want, const char *what) {
    for (size_t p : {s.size(), (size_t)1, (size_t)2, (size_t)3}) {
        char got = frame_in(until, frame, s, p ? p : 1);
        if (got != want) {
            printf("FAIL %s: in pieces of %zu: got %c, want %c\n", what, p, got, want);
            failures++;
            return;
        }
    }
}

static void test_http() {
    const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
    http_case(ok, 'D', "Content-Length 3", 200);
    http_case(ok + "x", 'E', "a byte past the body");
    http_case(ok.substr(0, ok.size() - 1), 'M', "a body one byte short");
    http_case("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n", 'D', "404, lower-case name", 404);
    http_case("HTTP/1.0 200\r\nContent-Length:5\r\n\r\nhello", 'D', "no reason phrase, no space", 200);
    http_case("HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", 'D', "bare LF line ends");
    http_case("HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n", 'D', "204 has no body", 204);
    http_case("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", 'D', "304 has no body");
    http_case("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx", 'D',
              "100 Continue, then the response", 201);
    const std::string chunked =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n1A;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: t\r\n\r\n";
    http_case(chunked, 'D', "chunked, an extension, a trailer", 200);
    http_case("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n0\r\n\r\n", 'D',
              "chunked last of two codings");
    http_case(chunked.substr(0, chunked.size() - 2), 'M', "chunked without its last CRLF");

    http_case("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 'B',
              "chunked not last: framed by the close");
    http_case("HTTP/1.1 200 OK\r\n\r\nok", 'B', "no Content-Length, not chunked");
    http_case("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", 'B',
              "two Content-Lengths");
    http_case("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", 'B',
              "Content-Length with Transfer-Encoding");
    http_case("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", 'B', "Content-Length 1 2");
    http_case("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 'B', "Content-Length -1");
    http_case("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", 'B',
              "Content-Length past 2^64");
    http_case("HTTP/1.1 200 OK\r\nX: a\r\n folded\r\nContent-Length: 0\r\n\r\n", 'B', "folded header");
    http_case("HTTP/1.1 200 OK\r\nBad Name: a\r\nContent-Length: 0\r\n\r\n", 'B', "space in a name");
    static const char nul[] = "HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n";
    http_case(std::string(nul, sizeof nul - 1), 'B', "NUL in a value");
    http_case("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", 'B', "header without a colon");
    http_case("HTTP/2 200 OK\r\n", 'B', "HTTP/2");
    http_case("HTTP/1.1 2000 OK\r\n", 'B', "four-digit status");
    http_case("HTTP/1.1 600 OK\r\n", 'B', "status 600");
    http_case("HTTP/1.1 20x OK\r\n", 'B', "status 20x");
    http_case("HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n", 'B', "CR without LF");
    http_case("http/1.1 200 OK\r\n", 'B', "lower-case version");
    http_case("HTTP/1.1 101 Switching Protocols\r\n\r\n", 'B', "101");
    http_case("1700000000000000000\n", 'B', "a timestamp echo");
    http_case("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", 'B',
              "chunk longer than its size");
    http_case("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n", 'B', "chunk size z");
    http_case("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 'B', "empty chunk size");

    // Headers: up to the limit is fine, past it a mismatch (and nothing grew).
    std::string big = "HTTP/1.1 200 OK\r\nX: ";
    std::string tail = "\r\nContent-Length: 0\r\n\r\n";
    std::string fits = big + std::string(kHttpHeadMax - big.size() - tail.size(), 'a') + tail;
    check(fits.size() == kHttpHeadMax, "the head built is exactly the limit");
    http_case(fits, 'D', "a head of exactly 64 KiB");
    std::string over = big + std::string(kHttpHeadMax - big.size() - tail.size() + 1, 'a') + tail;
    http_case(over, 'B', "a head one byte over 64 KiB");
    http_case("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" +
              std::string(kHttpHeadMax, 'e') + "\r\nx\r\n0\r\n\r\n", 'B', "a chunk line over 64 KiB");

    // A 100 MB body in 64 KiB pieces: counted past, nothing kept.
    HttpReply h = {};
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n";
    size_t used = 0;
    check(http_feed(&h, head.data(), head.size(), &used) == V_MORE, "100 MB: the head");
    static char piece[65536];
    Verdict v = V_MORE;
    size_t total = 0;
    while (v == V_MORE) {
        v = http_feed(&h, piece, sizeof piece, &used);
        total += used;
    }
    check(v == V_DONE && total == 104857600, "100 MB: done at its last byte");

    // A chunked 1 MB body in chunks of 4000, cut anywhere.
    std::string body = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 250; i++) body += "fa0\r\n" + std::string(4000, 'c') + "\r\n";
    body += "0\r\n\r\n";
    for (size_t p : {(size_t)1, (size_t)4096, (size_t)4003, (size_t)65536})
        check(http_in(body, p) == 'D', "a chunked 1 MB body");
}

// Whether the response said the server closes after it.
static void closes_case(const std::string &s, bool want, const char *what) {
    HttpReply h = {};
    size_t used;
    Verdict v = http_feed(&h, s.data(), s.size(), &used);
    if (v != V_DONE || http_closes(h) != want) {
        printf("FAIL %s: verdict %d, closes %d, want %d\n", what, v, http_closes(h), want);
        failures++;
    }
}

static void test_closes() {
    closes_case("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, "1.1 keeps the connection");
    closes_case("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", true,
                "Connection: close");
    closes_case("HTTP/1.1 200 OK\r\nconnection: Upgrade, CLOSE \r\nContent-Length: 0\r\n\r\n", true,
                "close as the second token");
    closes_case("HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n", false,
                "closed is not close");
    closes_case("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", false,
                "keep-alive");
    closes_case("HTTP/1.1 200 OK\r\nConnectionX: close\r\nContent-Length: 0\r\n\r\n", false,
                "another header named like it");
    closes_case("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", true, "1.0 closes by default");
    closes_case("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", false,
                "1.0 with keep-alive");
}

static void test_frames() {
    frame_case(false, "+PONG\r\n", "+PONG\r\n", 'D', "expect the exact reply");
    frame_case(false, "+PONG\r\n", "+PONG\r\nx", 'E', "expect, then a stray byte");
    frame_case(false, "+PONG\r\n", "+PONG", 'M', "expect, cut short");
    frame_case(false, "+PONG\r\n", "-ERR max number of clients reached\r\n", 'B', "expect, an error");
    frame_case(false, "+PONG\r\n", "+PONX\r\n", 'B', "expect, one byte off");
    frame_case(true, "\n", "VERSION 1.6.18\r\n", 'D', "until a newline");
    frame_case(true, "\r\n", ":42\r\n", 'D', "until CRLF");
    frame_case(true, "\r\n", ":4\r2\r\n", 'D', "until CRLF, a CR before it");
    frame_case(true, "\r\n", ":42\r\n:43\r\n", 'E', "until: the first occurrence ends it");
    frame_case(true, "aab", "aaab", 'D', "until aab in aaab: the automaton falls back");
    frame_case(true, "abab", "abaabab", 'D', "until abab in abaabab");
    frame_case(true, "END\r\n", "VALUE k 0 1\r\nx\r\nEND\r\n", 'D', "until END");
    frame_case(true, "END\r\n", "VALUE k 0 1\r\nx\r\nEN", 'M', "until END, not yet");
    check(!frame_init(true, "", 0), "an empty frame is refused");
}

static void test_bytes() {
    char out[64], err[128];
    long n = decode_escapes("PING\\r\\n", out, err, sizeof err);
    check(n == 6 && !memcmp(out, "PING\r\n", 6), "PING\\r\\n");
    n = decode_escapes("a\\tb\\\\c\\x00\\xfF", out, err, sizeof err);
    check(n == 7 && !memcmp(out, "a\tb\\c\0\xff", 7), "tab, backslash, \\x00, \\xfF");
    check(decode_escapes("a\\q", out, err, sizeof err) == -1 && strstr(err, "\\q at byte 1"),
          "unknown escape named with its place");
    check(decode_escapes("\\x4", out, err, sizeof err) == -1 && strstr(err, "two hex digits"),
          "\\x with one digit");
    check(decode_escapes("\\xg0", out, err, sizeof err) == -1, "\\x with no hex digit");
    check(decode_escapes("end\\", out, err, sizeof err) == -1 && strstr(err, "lone"), "a lone \\");
    char *b;
    uint32_t len;
    check(!option_bytes("", 100, &b, &len, err, sizeof err) && strstr(err, "no bytes"), "empty");
    check(!option_bytes("@/nonexistent/x", 100, &b, &len, err, sizeof err) &&
          strstr(err, "/nonexistent/x: No such file"), "@FILE missing, named");
    check(!option_bytes("0123456789", 4, &b, &len, err, sizeof err) && strstr(err, "over the limit"),
          "over the limit");
    check(option_bytes("\\x40x", 100, &b, &len, err, sizeof err) && len == 2 && !memcmp(b, "@x", 2),
          "an @ by escape is not a file");
    free(b);

    const char *hd[] = {"Accept: */*", "X-A: b"};
    check(http_request("/index.html", "127.0.0.1", 8080, hd, 2, &b, &len, err, sizeof err) &&
          std::string(b, len) == "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
                                 "Accept: */*\r\nX-A: b\r\n\r\n", "the GET request");
    free(b);
    check(http_request("/", "::1", 80, nullptr, 0, &b, &len, err, sizeof err) &&
          std::string(b, len) == "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", "IPv6 Host in brackets");
    free(b);
    check(!http_request("index.html", "h", 1, nullptr, 0, &b, &len, err, sizeof err) &&
          strstr(err, "must begin with /"), "a path without /");
    check(!http_request("/a b", "h", 1, nullptr, 0, &b, &len, err, sizeof err) && strstr(err, "byte 2"),
          "a space in the path");
    const char *bad[] = {"NoColon"};
    check(!http_request("/", "h", 1, bad, 1, &b, &len, err, sizeof err) && strstr(err, "Name: value"),
          "-H without a colon");
}

int main() {
    test_http();
    test_closes();
    test_frames();
    test_bytes();
    if (!failures) printf("ok\n");
    return failures ? 1 : 0;
}
