// cli_flood --http's response check (http_feed). Input: a mode byte, the sizes
// the stream arrives in, then either raw bytes or the makings of a well-formed
// response (status, headers, Content-Length or chunked body). Oracles:
// - however the stream is cut, the verdict and the byte it ended at are the same
//   as for the stream in one piece (the state machine loses nothing at a cut);
// - a well-formed response is complete exactly at its last byte, with its status;
// - a reply that completes has a status of 200 .. 599 (1xx are interim);
// - the head is refused past kHttpHeadMax bytes, never read further.
#include <string>

#include "../../cli/flood_proto.h"
#include "fuzz.h"

namespace {

struct Outcome {
    Verdict v;
    size_t end;  // where the reply ended (V_DONE), or where it went bad
    uint16_t status;
};

Outcome feed(const std::string &s, Bytes *cuts) {
    HttpReply h = {};
    size_t at = 0;
    while (at < s.size()) {
        size_t n = cuts ? 1 + cuts->take(1) % 97 : s.size() - at;
        if (n > s.size() - at) n = s.size() - at;
        size_t used = 0;
        Verdict v = http_feed(&h, s.data() + at, n, &used);
        FUZZ_CHECK(v == V_BAD || used <= n, "used %zu of %zu", used, n);
        if (v == V_BAD) return {v, 0, 0};
        if (v == V_DONE) return {v, at + used, h.status};
        FUZZ_CHECK(used == n, "more wanted but %zu of %zu taken", used, n);
        at += n;
    }
    return {V_MORE, s.size(), h.status};
}

// A well-formed response from the input's bytes.
std::string make_response(Bytes *in, uint16_t *status, size_t *len) {
    *status = (uint16_t)(200 + in->take(2) % 400);
    std::string s = "HTTP/1.1 " + std::to_string(*status) + " Reason\r\n";
    int headers = (int)(in->take(1) % 5);
    for (int i = 0; i < headers; i++) s += "X-H" + std::to_string(i) + ": v" + std::to_string(in->take(1)) + "\r\n";
    bool chunked = in->take(1) & 1;
    bool no_body = *status == 204 || *status == 304;
    if (chunked && !no_body) {
        s += "Transfer-Encoding: chunked\r\n\r\n";
        int chunks = (int)(in->take(1) % 6);
        for (int i = 0; i < chunks; i++) {
            size_t n = 1 + in->take(2) % 3000;
            char hexlen[24];
            snprintf(hexlen, sizeof hexlen, (in->take(1) & 1) ? "%zx" : "%zX", n);
            s += std::string(hexlen) + ((in->take(1) & 1) ? ";ext=1" : "") + "\r\n";
            s += std::string(n, (char)in->take(1)) + "\r\n";
        }
        s += "0\r\n";
        if (in->take(1) & 1) s += "Trailer-Field: x\r\n";
        s += "\r\n";
    } else {
        size_t n = no_body ? 0 : in->take(2) % 5000;
        s += "Content-Length: " + std::to_string(n) + "\r\n\r\n" + std::string(n, (char)in->take(1));
    }
    *len = s.size();
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Bytes in{data, size};
    int mode = (int)in.take(1);
    uint16_t want_status = 0;
    size_t want_len = 0;
    std::string s;
    if (mode & 1) {
        s = make_response(&in, &want_status, &want_len);
        if (mode & 2) s += std::string((const char *)in.p, in.left() > 64 ? 64 : in.left());  // bytes after it
    } else {
        size_t keep = in.left() / 2;
        s.assign((const char *)in.p, keep);
        in.p += keep;
        in.n -= keep;
    }
    Outcome whole = feed(s, nullptr);
    Bytes cuts = in;
    Outcome cut = feed(s, &cuts);
    FUZZ_CHECK(whole.v == cut.v && whole.end == cut.end && whole.status == cut.status,
               "in one piece verdict %d at %zu status %u, cut up %d at %zu status %u", whole.v,
               whole.end, whole.status, cut.v, cut.end, cut.status);
    if (whole.v == V_DONE) FUZZ_CHECK(whole.status >= 200 && whole.status <= 599, "done with status %u", whole.status);
    if (mode & 1)
        FUZZ_CHECK(whole.v == V_DONE && whole.end == want_len && whole.status == want_status,
                   "a well-formed %zu-byte response, status %u: verdict %d at %zu status %u", want_len,
                   want_status, whole.v, whole.end, whole.status);
    // A head that never ends: refused once it passes the limit, not before.
    if (mode == 0xfe) {
        std::string head = "HTTP/1.1 200 OK\r\n";
        while (head.size() < kHttpHeadMax + 100) head += "X: " + std::string(in.take(1) % 200, 'a') + "\r\n";
        HttpReply h = {};
        size_t used;
        FUZZ_CHECK(http_feed(&h, head.data(), kHttpHeadMax - 4, &used) == V_MORE, "refused under the limit");
        FUZZ_CHECK(http_feed(&h, head.data() + kHttpHeadMax - 4, head.size() - kHttpHeadMax + 4, &used) == V_BAD,
                   "a head past the limit taken");
    }
    return 0;
}
