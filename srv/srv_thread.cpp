// srv_thread: timestamp echo server with a thread per connection, blocking I/O.
//
// The main thread accept()s and starts a detached thread for each connection; the
// thread reads and writes back until the peer closes. With -w N a pool of N
// threads instead each accept()s and serves one connection at a time.
//
// A thread gets a 64 KiB stack (kStack): 10,000 threads at the default 8 MiB would
// reserve 80 GB of address space and one mapping each against vm.max_map_count;
// the echo needs a 4 KiB buffer and a few frames of libc. Counters are atomic
// adds into one ServerStats. On SIGINT/SIGTERM the main thread prints them and
// exits: exit() ends every thread at once, and the kernel closes their sockets.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/echo.h"
#include "../common/net.h"
#include "../common/server.h"
#include "../common/util.h"

namespace {

// 16 pages: the echo's 4 KiB buffer and libc's frames, with room to spare (not
// measured; the whole suite passes with it under ASan, whose frames are larger).
constexpr size_t kStack = 64 * 1024;

ServerConfig cfg;
// Connections refused because pthread_create failed: this strategy's own counter.
constexpr Counter C_THREAD_FAILED = C_OWN;
ServerStats st;  // every thread's counts, with __atomic builtins
int listen_fd, reserve_fd;
long max_fds;
pthread_attr_t thread_attr;


void add(Counter c, uint64_t n) { __atomic_fetch_add(&st.n[c], n, __ATOMIC_RELAXED); }

// A connection is being served: open and its peak (counted before its thread
// starts, which may end it at once); accepted once it is sure to be served.
void opened() {
    uint64_t now = __atomic_add_fetch(&st.open, 1, __ATOMIC_RELAXED);
    uint64_t peak = __atomic_load_n(&st.n[C_PEAK_OPEN], __ATOMIC_RELAXED);
    while (now > peak && !__atomic_compare_exchange_n(&st.n[C_PEAK_OPEN], &peak, now, true,
                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

// Echoes until the peer closes (blocking; -t through SO_RCVTIMEO/SO_SNDTIMEO).
void serve_connection(int fd) {
    echo_blocking(fd, cfg.idle_s, &st);
    __atomic_fetch_sub(&st.open, 1, __ATOMIC_RELAXED);
}

void *connection_thread(void *arg) {
    serve_connection((int)(intptr_t)arg);
    return nullptr;
}

// -w: a pool thread accepts and serves one connection at a time, for ever.
void *pool_thread(void *) {
    for (;;) {
        int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);  // blocking
        if (fd < 0) {
            if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO) {
                add(C_ACCEPT_ERROR, 1);
                poll(nullptr, 0, 100);  // EMFILE and the like: pause, never spin
            }
            continue;
        }
        set_nodelay(fd);
        opened();
        add(C_ACCEPTED, 1);
        serve_connection(fd);
    }
    return nullptr;
}

// Starts a thread, 0 or the error; the stop signals stay blocked in it
// (inherited), so only the main thread's ppoll takes them.
int start_thread(void *(*fn)(void *), void *arg) {
    pthread_t t;
    return pthread_create(&t, &thread_attr, fn, arg);
}

void accept_all() {
    static bool warned;
    while (!stop_requested()) {
        int fd = server_accept(listen_fd, &reserve_fd, max_fds, &st);
        if (fd < 0) return;
        opened();
        int e = start_thread(connection_thread, (void *)(intptr_t)fd);
        if (!e) {
            add(C_ACCEPTED, 1);
            continue;
        }
        // EAGAIN: threads-max, RLIMIT_NPROC, vm.max_map_count or memory. Refuse this
        // one connection and go on; the next tries afresh.
        if (!warned) {
            errno = e;
            warn_errno("pthread_create (refusing connections while threads cannot be created)");
        }
        warned = true;
        add(C_THREAD_FAILED, 1);
        close_fd(fd);
        __atomic_fetch_sub(&st.open, 1, __ATOMIC_RELAXED);
    }
}

// How many threads the machine and this user allow, and why, for the start line.
long capacity(char *why, size_t len) {
    rlimit rl;
    long nproc = getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                     ? (long)rl.rlim_cur : -1;
    long threads_max = (long)proc_number("/proc/sys/kernel/threads-max", nullptr, 0);
    long pid_max = (long)proc_number("/proc/sys/kernel/pid_max", nullptr, 0);
    long map_count = (long)proc_number("/proc/sys/vm/max_map_count", nullptr, 0);
    long long avail_kib = proc_number("/proc/meminfo", "MemAvailable:", 0);
    long tasks = -1;  // every thread on the machine: 4th field of /proc/loadavg, "1/345"
    if (FILE *f = fopen("/proc/loadavg", "r")) {
        if (fscanf(f, "%*s %*s %*s %*d/%ld", &tasks) != 1) tasks = -1;
        fclose(f);
    }
    long cap = pid_max > 0 ? pid_max : 4194304;  // a thread takes a task ID too
    if (threads_max > 0 && threads_max < cap) cap = threads_max;
    if (tasks > 0) cap -= tasks;
    // Each thread maps its stack and a guard page: two mappings.
    if (map_count > 0 && map_count / 2 < cap) cap = map_count / 2;
    if (nproc > 0 && geteuid() != 0 && nproc - 1 < cap) cap = nproc - 1;
    // The stack touches a few pages; the kernel adds a 16 KiB stack of its own.
    long long by_memory = avail_kib > 0 ? avail_kib / 32 : -1;
    if (by_memory > 0 && by_memory < cap) cap = (long)by_memory;
    snprintf(why, len, "stack %zu KiB; threads-max %ld, pid_max %ld, vm.max_map_count %ld, "
             "RLIMIT_NPROC %ld%s, %lld MiB available", kStack / 1024, threads_max, pid_max,
             map_count, nproc, geteuid() == 0 ? " (not enforced for root)" : "",
             avail_kib / 1024);
    return cap > 0 ? cap : 0;
}

}  // namespace

int main(int argc, char **argv) {
    sigset_t wait_mask;
    // The stop signals are blocked from here on, so in every thread started after.
    max_fds = server_init(argc, argv, C10K_PROG, &cfg, &wait_mask);
    cfg.own_counter[0] = "thread_failed";
    pthread_attr_init(&thread_attr);
    pthread_attr_setstacksize(&thread_attr, kStack);
    pthread_attr_setdetachstate(&thread_attr, PTHREAD_CREATE_DETACHED);

    listen_fd = server_listen(&cfg, false);
    reserve_fd = cfg.workers ? -1 : reserve_fd_open();
    char why[256], strategy[384];
    long cap = capacity(why, sizeof why);
    if (server_capacity(cfg, max_fds, 2) < cap) cap = server_capacity(cfg, max_fds, 2);
    if (cfg.workers) {
        // Pool threads block in accept(); the flag is on the shared file description.
        fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) & ~O_NONBLOCK);
        snprintf(strategy, sizeof strategy, "thread pool (%d threads, one connection each; %s)",
                 cfg.workers, why);
        if (cfg.workers < cap) cap = cfg.workers;
        for (int i = 0; i < cfg.workers; i++)
            if (int e = start_thread(pool_thread, nullptr))
                die(EXIT_RUNTIME, "pthread_create: %s (thread %d of %d); lower -w", strerror(e), i,
                    cfg.workers);
    } else {
        snprintf(strategy, sizeof strategy, "thread (a thread per connection; %s)", why);
    }
    server_print_start(cfg, strategy, cap);

    pollfd lp = {listen_fd, POLLIN, 0};
    while (!stop_requested()) {
        int n = ppoll(&lp, cfg.workers ? 0 : 1, nullptr, &wait_mask);
        if (n < 0 && errno != EINTR) die_errno(EXIT_RUNTIME, "poll");
        if (n > 0) accept_all();
    }
    // A snapshot: threads may echo a few bytes more before exit() ends them.
    ServerStats snap;
    for (int c = 0; c < C_COUNT; c++) snap.n[c] = __atomic_load_n(&st.n[c], __ATOMIC_RELAXED);
    server_print_stats(cfg, snap);
    exit(0);
}
