// Small helpers in the err(3) mould: messages, bounded numbers, limits, signals.
#pragma once
#include <cstdint>
#include <csignal>

// Program name used as the prefix of every message ("srv_epoll: ...").
extern const char *g_prog;

// warnx(3)/errx(3) look-alikes; die() exits with `code`.
void warn_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  // adds ": strerror(errno)"
[[noreturn]] void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
[[noreturn]] void die_errno(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// strtonum(3): decimal in [lo, hi]. On failure *why is "invalid", "too small" or "too large".
bool parse_num(const char *s, long long lo, long long hi, long long *out, const char **why);
// parse_num or exit 2 with "<prog>: <what> is <why>: <s>".
long long num_arg(const char *s, long long lo, long long hi, const char *what);

// The field-th number (from 0) in a /proc or /sys file, on the first line that
// starts with key (any line if key is null), words between numbers skipped:
// proc_number("/proc/meminfo", "MemAvailable:", 0). -1 if there is none.
long long proc_number(const char *path, const char *key, int field);

// Raise the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force.
long raise_fd_limit();

// SIGINT/SIGTERM set g_stop; SIGPIPE and SIGHUP are ignored. The stop signals are
// blocked on return: pass *wait_mask to epoll_pwait/ppoll/pselect, which unblock them
// only while waiting, so a signal can never slip in between the check and the wait.
extern volatile sig_atomic_t g_stop;
void setup_signals(sigset_t *wait_mask);
// Loop condition: true once SIGINT or SIGTERM came. The wait calls deliver the
// blocked signal only when they would sleep; under constant load they always find
// events first and it stays pending for ever, so this also asks sigpending(2).
bool stop_requested();

// Expected usage errors exit 2, runtime failures 1.
enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };
