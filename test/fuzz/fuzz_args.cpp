// The number and address parsing of the servers and cli_flood: parse_num (every
// numeric option), resolve (-a), parse_sources (-s), and the servers' whole
// command line (server_parse_args). The first byte picks which. Oracles:
// - parse_num agrees with a reference strtonum(3) written from its definition;
// - an address resolve or parse_sources accepts, printed back, reads back the same;
// - server_parse_args either fills a config within its documented ranges or exits
//   with 0 (-h) or 2 (usage), never anything else.
#include <arpa/inet.h>
#include <climits>
#include <csetjmp>
#include <cstdlib>
#include <getopt.h>
#include <unistd.h>

#include "../../common/server.h"
#include "../../common/util.h"
#include "fuzz.h"

// The link-time seam: linked with -Wl,--wrap=exit, every call to exit() in this
// program (the parser's, and libFuzzer's own) comes here. Inside a parse it
// returns to the fuzzer with the status; elsewhere it is exit().
extern "C" [[noreturn]] void __real_exit(int);
static jmp_buf g_parse_exit;
static bool g_in_parse;
extern "C" [[noreturn]] void __wrap_exit(int code) {
    if (g_in_parse) {
        g_in_parse = false;
        longjmp(g_parse_exit, code + 1);  // longjmp(.., 0) would return 1
    }
    __real_exit(code);
}

namespace {

// strtonum(3) by its definition: optional leading white space, an optional sign,
// one or more decimal digits and nothing after them.
bool ref_num(const char *s, long long lo, long long hi, long long *out, const char **why) {
    const char *p = s;
    while (*p == ' ' || (*p >= '\t' && *p <= '\r')) p++;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+') p++;
    if (*p < '0' || *p > '9') return *why = "invalid", false;
    __int128 v = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        if (v <= (__int128)1 << 64) v = v * 10 + (*p - '0');
    if (*p) return *why = "invalid", false;
    if (neg) v = -v;
    if (v < lo) return *why = "too small", false;
    if (v > hi) return *why = "too large", false;
    *out = (long long)v;
    return true;
}

void check_num(const char *s, long long lo, long long hi) {
    long long got = 0, want = 0;
    const char *why = nullptr, *want_why = nullptr;
    bool ok = parse_num(s, lo, hi, &got, &why);
    bool ref = ref_num(s, lo, hi, &want, &want_why);
    FUZZ_CHECK(ok == ref, "parse_num(\"%s\", %lld, %lld) says %d, the reference %d", s, lo, hi, ok, ref);
    if (ok) FUZZ_CHECK(got == want, "parse_num(\"%s\") = %lld, the reference %lld", s, got, want);
    else FUZZ_CHECK(!strcmp(why, want_why), "parse_num(\"%s\", %lld, %lld): %s, the reference %s", s,
                    lo, hi, why, want_why);
}

// The address part of format_endpoint's "a.b.c.d:port" or "[v6]:port".
void host_of(const Endpoint &ep, char *out, size_t len) {
    char full[80];
    format_endpoint(ep, full, sizeof full);
    char *colon = strrchr(full, ':');
    FUZZ_CHECK(colon, "format_endpoint gave no port: %s", full);
    *colon = '\0';
    snprintf(out, len, "%s", full);
}

bool same_endpoint(const Endpoint &a, const Endpoint &b) {
    return a.len == b.len && !memcmp(&a.ss, &b.ss, a.len);
}

void check_endpoint(const Endpoint &ep, int port, const char *from) {
    int fam = ep.ss.ss_family;
    FUZZ_CHECK((fam == AF_INET && ep.len == sizeof(sockaddr_in)) ||
               (fam == AF_INET6 && ep.len == sizeof(sockaddr_in6)), "%s: family %d, length %u", from,
               fam, (unsigned)ep.len);
    int got = ntohs(fam == AF_INET ? ((const sockaddr_in *)&ep.ss)->sin_port
                                   : ((const sockaddr_in6 *)&ep.ss)->sin6_port);
    FUZZ_CHECK(got == port, "%s: port %d, want %d", from, got, port);
    char host[80], err[kErrLen];
    host_of(ep, host, sizeof host);
    Endpoint again;
    FUZZ_CHECK(resolve(host, port, &again, err) && same_endpoint(ep, again),
               "%s: printed as %s it does not read back the same", from, host);
}

void check_resolve(const char *host, int port) {
    Endpoint ep;
    char err[kErrLen];
    err[0] = '\0';
    if (resolve(host, port, &ep, err)) check_endpoint(ep, port, host);
    else FUZZ_CHECK(memchr(err, '\0', kErrLen) && err[0], "resolve(\"%s\") failed with no reason", host);
}

void check_sources(const char *spec, int max) {
    Endpoint *out = (Endpoint *)malloc(sizeof(Endpoint) * (size_t)max);  // exact: ASan sees overruns
    char err[kErrLen];
    err[0] = '\0';
    int n = parse_sources(spec, out, max, err);
    if (n < 0) {
        FUZZ_CHECK(n == -1 && memchr(err, '\0', kErrLen) && err[0], "parse_sources(\"%s\") = %d, err '%s'",
                   spec, n, err);
        free(out);
        return;
    }
    FUZZ_CHECK(n >= 1 && n <= max, "parse_sources(\"%s\", max %d) = %d", spec, max, n);
    // Printed back as a list, the addresses read back the same, in order.
    static char list[1024 * 48];
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        check_endpoint(out[i], 0, spec);
        host_of(out[i], list + len, sizeof list - len);
        len += strlen(list + len);
        if (i + 1 < n) list[len++] = ',';
    }
    list[len] = '\0';
    if (len < 512) {  // the longest list parse_sources takes
        Endpoint *again = (Endpoint *)malloc(sizeof(Endpoint) * (size_t)max);
        int m = parse_sources(list, again, max, err);
        FUZZ_CHECK(m == n, "parse_sources(\"%s\") = %d, its list \"%s\" = %d", spec, n, list, m);
        for (int i = 0; i < n; i++)
            FUZZ_CHECK(same_endpoint(out[i], again[i]), "source %d of \"%s\" reads back differently", i, spec);
        free(again);
    }
    free(out);
}

// argv from the rest of the input: NUL-separated words, at most 16.
void check_server_args(const char *words, size_t len) {
    static char buf[4096];
    if (len >= sizeof buf) len = sizeof buf - 1;
    memcpy(buf, words, len);
    buf[len] = '\0';
    char *argv[18];
    int argc = 0;
    argv[argc++] = (char *)"srv_fuzz";
    for (size_t i = 0; i <= len && argc < 17; i += strlen(buf + i) + 1) argv[argc++] = buf + i;
    argv[argc] = nullptr;
    static ServerConfig cfg;  // static: setjmp's caller must not keep it in a register
    cfg = ServerConfig{};
    optind = 0;  // glibc: start over
    opterr = 0;
    g_in_parse = true;
    int code = setjmp(g_parse_exit);
    if (code) {
        code--;
        FUZZ_CHECK(code == 0 || code == EXIT_USAGE, "server_parse_args exited %d", code);
        return;
    }
    server_parse_args(argc, argv, &cfg);
    g_in_parse = false;
    FUZZ_CHECK(cfg.backlog >= 1 && cfg.backlog <= 1 << 20, "backlog %d", cfg.backlog);
    FUZZ_CHECK(cfg.idle_s >= 0 && cfg.idle_s <= 86400, "idle %d", cfg.idle_s);
    FUZZ_CHECK(cfg.workers >= 0 && cfg.workers <= 100000, "workers %d",
               cfg.workers);
    int fam = cfg.ep.ss.ss_family;
    int port = ntohs(fam == AF_INET ? ((const sockaddr_in *)&cfg.ep.ss)->sin_port
                                    : ((const sockaddr_in6 *)&cfg.ep.ss)->sin6_port);
    check_endpoint(cfg.ep, port, "server_parse_args");
    char printed[64];
    format_endpoint(cfg.ep, printed, sizeof printed);
    FUZZ_CHECK(!strcmp(printed, cfg.addr), "addr '%s', the endpoint prints as '%s'", cfg.addr, printed);
}

}  // namespace

// Usage and error messages of bad command lines go nowhere; FUZZ_CHECK and the
// sanitizers write to descriptor 2 itself.
extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    stderr = fopen("/dev/null", "w");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Bytes in{data, size};
    int which = (int)in.take(1);
    if (which % 4 == 3) {
        check_server_args((const char *)in.p, in.left());
        return 0;
    }
    long long lo = (long long)in.take(8), hi = (long long)in.take(8);
    if (which & 4) lo = (long long)(lo % 1000), hi = (long long)(hi % 1000000);  // sizes options use
    int port = (int)(in.take(2));
    char *s = (char *)malloc(in.left() + 1);  // exact size: ASan sees any read past the end
    memcpy(s, in.p, in.left());
    s[in.left()] = '\0';
    switch (which % 4) {
    case 0: check_num(s, lo, hi); break;
    case 1: check_resolve(s, port); break;
    case 2: check_sources(s, 1 + (int)((unsigned long long)hi % 1024)); break;
    }
    free(s);
    return 0;
}
