// The replies cli_flood checks besides its timestamp echo: HTTP/1.1 responses
// (--http), exact bytes (--expect) and delimited ones (--until), each an
// incremental check fed the pieces recv() gives, in any sizes, with a few bytes of
// state per connection and no buffer: a body of any size costs what a small one
// does. And the option bytes they need: C escapes, @FILE, the HTTP request.
#pragma once
#include <cstddef>
#include <cstdint>

enum Proto : uint8_t { P_ECHO, P_HTTP, P_SEND };
extern const char *const kProtoName[3];  // "echo", "http", "send"

// What a feed of reply bytes says.
enum Verdict : uint8_t {
    V_MORE,  // all taken, the reply is not complete yet
    V_DONE,  // the reply ended at byte *used of this piece
    V_BAD,   // not such a reply: a mismatch
};

// Status line and headers (interim 1xx responses included), a chunk-size line,
// or the trailers: each is refused past this, so a server that never ends its
// headers costs nothing but the bytes it sends.
constexpr uint32_t kHttpHeadMax = 64 * 1024;

// One response in progress. Zeroed: waiting for "HTTP/1.x".
struct HttpReply {
    uint64_t left;    // body or chunk bytes still to come; Content-Length while in the headers
    uint32_t meta;    // bytes of the head, chunk-size line or trailers so far
    uint16_t status;
    uint8_t state, ret;  // ret: the state a CR came in, which the LF after it goes back to
    uint8_t sub;      // progress in a literal, a header name, a token
    uint16_t flags;
};
Verdict http_feed(HttpReply *h, const char *p, size_t n, size_t *used);
// The response said "Connection: close" (or was HTTP/1.0 without keep-alive): the
// server closes the connection after it, and no other request may follow.
bool http_closes(const HttpReply &h);

// --send's replies: exactly these bytes (--expect), or everything up to and
// including the first occurrence of them (--until). Once per process; false if
// the bytes are empty or longer than kMaxFrame.
constexpr uint32_t kMaxFrame = 4096;
bool frame_init(bool until, const char *bytes, uint32_t len);
// *state: bytes of --expect matched so far, or of --until's delimiter (a prefix of
// it, as a Knuth-Morris-Pratt automaton: no byte is looked at twice). Zero to begin.
Verdict frame_feed(uint32_t *state, const char *p, size_t n, size_t *used);

// Which protocol this process runs: one per run, set once from the options.
extern Proto g_proto;
struct Request;
// The next piece buf[0..n) of the reply to request q, of which tx bytes are sent:
// the echo checked at *rx bytes so far, or the --send frame in state *rx, or the
// HTTP response in *h. V_DONE only when the reply ends with the piece's last byte:
// with one request in flight, a byte after the reply is not an answer to anything.
Verdict reply_feed(HttpReply *h, uint32_t *rx, const Request &q, uint32_t tx, const char *buf,
                   size_t n);
// An HTTP status as a failure or not: 2xx succeed. Status 0 (no HTTP) too.
inline bool status_ok(uint16_t status) { return status == 0 || (status >= 200 && status < 300); }

// The request every connection sends (request_init_fixed), as text for the
// report: printable ASCII as it is, other bytes and % " \\ as %HH; cut with "..."
// to fit cap.
void sent_text(char *out, size_t cap);

// An option's bytes: C escapes (\r \n \t \\ \xHH) decoded into out (at most
// strlen(arg) bytes); -1 with the problem named in err on a bad escape.
long decode_escapes(const char *arg, char *out, char *err, size_t errlen);
// The same, or with a leading @ the contents of a file (up to max bytes, not
// decoded). Allocated once; false with err on a missing file, or empty bytes.
bool option_bytes(const char *arg, uint32_t max, char **out, uint32_t *len, char *err, size_t errlen);

// --http: "GET path HTTP/1.1", Host, the -H headers, into *out (allocated once).
// false with err: a path without a leading /, a header without "name:", a control
// character in either.
bool http_request(const char *path, const char *host, int port, const char *const *headers,
                  int nheaders, char **out, uint32_t *len, char *err, size_t errlen);
