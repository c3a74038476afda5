#include "util.h"

#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sys/resource.h>

const char *g_prog = "c10k";
volatile sig_atomic_t g_stop = 0;

namespace {

void vmsg(const char *fmt, va_list ap, int errnum) {
    char line[512];
    int n = snprintf(line, sizeof line, "%s: ", g_prog);
    n += vsnprintf(line + n, sizeof line - n, fmt, ap);
    if (n > (int)sizeof line - 1) n = sizeof line - 1;
    if (errnum) n += snprintf(line + n, sizeof line - n, ": %s", strerror(errnum));
    if (n > (int)sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    fflush(stdout);  // keep stdout and stderr in order when both go to one file
    fwrite(line, 1, n, stderr);
}

void on_stop(int) { g_stop = 1; }

}  // namespace

void warn_msg(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap, 0);
    va_end(ap);
}

void warn_errno(const char *fmt, ...) {
    int e = errno;
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap, e);
    va_end(ap);
}

void die(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap, 0);
    va_end(ap);
    exit(code);
}

void die_errno(int code, const char *fmt, ...) {
    int e = errno;
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap, e);
    va_end(ap);
    exit(code);
}

bool parse_num(const char *s, long long lo, long long hi, long long *out, const char **why) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || (errno == ERANGE && v != LLONG_MAX && v != LLONG_MIN)) {
        *why = "invalid";
        return false;
    }
    if (v < lo || (errno == ERANGE && v == LLONG_MIN)) {
        *why = "too small";
        return false;
    }
    if (v > hi || errno == ERANGE) {
        *why = "too large";
        return false;
    }
    *out = v;
    return true;
}

long long num_arg(const char *s, long long lo, long long hi, const char *what) {
    long long v;
    const char *why;
    if (!parse_num(s, lo, hi, &v, &why))
        die(EXIT_USAGE, "%s is %s: %s (allowed %lld-%lld)", what, why, s, lo, hi);
    return v;
}

long raise_fd_limit() {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max == RLIM_INFINITY ? 1 << 20 : rl.rlim_max;
        rlimit up = {want, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0) rl.rlim_cur = want;
    }
    return rl.rlim_cur == RLIM_INFINITY ? 1 << 20 : (long)rl.rlim_cur;
}

void setup_signals(sigset_t *wait_mask) {
    struct sigaction sa = {};
    sa.sa_handler = on_stop;  // no SA_RESTART: the wait must return EINTR
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop, wait_mask);
    sigdelset(wait_mask, SIGINT);
    sigdelset(wait_mask, SIGTERM);
}

bool stop_requested() {
    if (g_stop) return true;
    // One system call per loop turn would cost a busy server a few percent: look
    // every 10 ms of the coarse clock instead, which the vDSO reads for free.
    static int64_t next_ms;
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (now_ms < next_ms) return false;
    next_ms = now_ms + 10;
    sigset_t pending;
    if (sigpending(&pending) == 0 && (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM)))
        g_stop = 1;
    return g_stop;
}

long long proc_number(const char *path, const char *key, int field) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[512];
    long long v = -1;
    size_t klen = key ? strlen(key) : 0;
    while (v < 0 && fgets(line, sizeof line, f)) {
        if (key && strncmp(line, key, klen) != 0) continue;
        int seen = 0;
        for (char *p = line + klen, *end; *p;) {
            long long n = strtoll(p, &end, 10);
            if (end == p) {  // not a number: skip the word
                while (*p && *p != ' ' && *p != '\t') p++;
                while (*p == ' ' || *p == '\t') p++;
                continue;
            }
            if (seen++ == field) {
                v = n;
                break;
            }
            p = end;
        }
        if (key) break;
    }
    fclose(f);
    return v;
}
