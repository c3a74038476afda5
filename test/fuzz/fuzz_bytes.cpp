// cli_flood's option bytes and --send's framers: decode_escapes against a
// reference decoder, and frame_feed (--expect, --until) against memcmp and a
// plain search for the first occurrence, fed in the input's cuts. Input: a mode
// byte, a frame length, the frame, the cuts, then the text (escapes, or a reply).
#include <cctype>
#include <string>

#include "../../cli/flood_proto.h"
#include "fuzz.h"

namespace {

// \r \n \t \\ \xHH; anything else after a backslash, or a lone one, is refused.
long ref_decode(const std::string &s, std::string *out) {
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] != '\\') {
            *out += s[i];
            continue;
        }
        if (++i == s.size()) return -1;
        char c = s[i];
        if (c == 'r') *out += '\r';
        else if (c == 'n') *out += '\n';
        else if (c == 't') *out += '\t';
        else if (c == '\\') *out += '\\';
        else if (c == 'x' && i + 2 < s.size() && isxdigit((unsigned char)s[i + 1]) &&
                 isxdigit((unsigned char)s[i + 2])) {
            *out += (char)strtol(s.substr(i + 1, 2).c_str(), nullptr, 16);
            i += 2;
        } else return -1;
    }
    return (long)out->size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Bytes in{data, size};
    int mode = (int)in.take(1);
    if (mode & 1) {  // escapes: the rest as a C string
        std::string s((const char *)in.p, in.left());
        s = s.substr(0, s.find('\0'));
        std::string want;
        long ref = ref_decode(s, &want);
        std::string out(s.size() + 1, '\0');
        char err[128] = "";
        long got = decode_escapes(s.c_str(), &out[0], err, sizeof err);
        FUZZ_CHECK(got == ref, "decode_escapes %ld, the reference %ld", got, ref);
        FUZZ_CHECK(got < 0 || (got <= (long)s.size() && !memcmp(out.data(), want.data(), (size_t)got)),
                   "decoded bytes differ");
        FUZZ_CHECK(got >= 0 || err[0], "refused without a reason");
        return 0;
    }
    bool until = mode & 2;
    size_t flen = 1 + in.take(1) % 8;
    if (in.left() < flen) return 0;
    std::string frame((const char *)in.p, flen);
    in.p += flen;
    in.n -= flen;
    // Replies from a small alphabet, so the frame turns up, overlapping itself.
    size_t rlen = in.left() / 2;
    std::string reply;
    for (size_t i = 0; i < rlen; i++) reply += (mode & 4) ? frame[in.p[i] % flen] : (char)in.p[i];
    in.p += rlen;
    in.n -= rlen;
    FUZZ_CHECK(frame_init(until, frame.data(), (uint32_t)flen), "frame_init");
    size_t want_end;  // 0: more wanted; SIZE_MAX: bad
    if (until) {
        size_t at = reply.find(frame);
        want_end = at == std::string::npos ? 0 : at + flen;
    } else {
        size_t n = reply.size() < flen ? reply.size() : flen;
        want_end = memcmp(reply.data(), frame.data(), n) ? SIZE_MAX : n == flen ? flen : 0;
    }
    uint32_t st = 0;
    size_t at = 0, got_end = 0;
    while (at < reply.size()) {
        size_t n = 1 + in.take(1) % 13;
        if (n > reply.size() - at) n = reply.size() - at;
        size_t used = 0;
        Verdict v = frame_feed(&st, reply.data() + at, n, &used);
        if (v == V_BAD) {
            got_end = SIZE_MAX;
            break;
        }
        if (v == V_DONE) {
            got_end = at + used;
            break;
        }
        FUZZ_CHECK(used == n, "more wanted but %zu of %zu taken", used, n);
        at += n;
    }
    FUZZ_CHECK(got_end == want_end, "%s of %zu bytes in a %zu-byte reply: ended at %zu, want %zu",
               until ? "until" : "expect", flen, reply.size(), got_end, want_end);
    return 0;
}
