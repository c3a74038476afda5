#include "server.h"

#include <cerrno>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "util.h"

namespace {

// One synopsis for every server, as in the man pages.
void usage(FILE *out) {
    fprintf(out, "usage: %s [-hq] [-a addr] [-b backlog] [-t idle-seconds] [-w workers] [port]\n",
            g_prog);
}

}  // namespace

void server_parse_args(int argc, char **argv, ServerConfig *cfg) {
    const char *host = "127.0.0.1";
    int port = 9000;
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) < 0) open("/dev/null", O_RDWR);  // takes the lowest free: fd
    int ch;
    while ((ch = getopt(argc, argv, "a:b:hqt:w:")) != -1) {
        switch (ch) {
        case 'a': host = optarg; break;
        case 'b': cfg->backlog = (int)num_arg(optarg, 1, 1 << 20, "backlog"); break;
        case 'q': cfg->quiet = true; break;
        case 't': cfg->idle_s = (int)num_arg(optarg, 0, 86400, "idle timeout"); break;
        case 'w': cfg->workers = (int)num_arg(optarg, 0, 100000, "number of workers"); break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(EXIT_USAGE);
        }
    }
    argc -= optind;
    argv += optind;
    if (argc > 1) {
        warn_msg("too many arguments: %s", argv[1]);
        usage(stderr);
        exit(EXIT_USAGE);
    }
    if (argc == 1) port = (int)num_arg(argv[0], 0, 65535, "port");
    char err[kErrLen];
    if (!resolve(host, port, &cfg->ep, err)) die(EXIT_USAGE, "-a: %s", err);
    format_endpoint(cfg->ep, cfg->addr, sizeof cfg->addr);
}

long server_init(int argc, char **argv, const char *prog, ServerConfig *cfg, sigset_t *wait_mask) {
    g_prog = prog;
    server_parse_args(argc, argv, cfg);
    long max_fds = raise_fd_limit();
    // RLIMIT_NOFILE bounds descriptor numbers: one inherited at or past it takes
    // no number a connection could have.
    if (DIR *d = opendir("/proc/self/fd")) {
        for (dirent *e; (e = readdir(d));) {
            long fd = atol(e->d_name);
            if (fd > 2 && fd < max_fds && fd != dirfd(d) && e->d_name[0] != '.') cfg->inherited_fds++;
        }
        closedir(d);
    }
    setup_signals(wait_mask);
    return max_fds;
}

int server_listen(ServerConfig *cfg, bool reuseport) {
    char err[kErrLen];
    int fd = listen_tcp(cfg->ep, cfg->backlog, reuseport, err);
    if (fd < 0) die(EXIT_RUNTIME, "%s", err);
    // Port 0 asks the kernel to choose; report the one it chose.
    auto *in4 = (sockaddr_in *)&cfg->ep.ss;
    auto *in6 = (sockaddr_in6 *)&cfg->ep.ss;
    int port = local_port(fd);
    if (cfg->ep.ss.ss_family == AF_INET6)
        in6->sin6_port = htons((uint16_t)port);
    else
        in4->sin_port = htons((uint16_t)port);
    format_endpoint(cfg->ep, cfg->addr, sizeof cfg->addr);
    return fd;
}

namespace {

// What the machine, not the process, lets the server hold: a warning for each
// limit below its capacity, with the fix.
void warn_machine_limits(long capacity) {
    long long file_max = proc_number("/proc/sys/fs/file-max", nullptr, 0);
    if (file_max > 0 && capacity > file_max)
        warn_msg("warning: fs.file-max %lld is below the %ld connections the workers may hold; "
               "raise it (sysctl -w fs.file-max=%lld)", file_max, capacity, (long long)capacity * 2);
    // About 5 KB of kernel memory a socket; on loopback the clients' ends come on top.
    long long avail_kib = proc_number("/proc/meminfo", "MemAvailable:", 0);
    if (avail_kib > 0 && (long long)capacity * 5 > avail_kib)
        warn_msg("warning: %ld connections would take about %lld MiB of kernel memory (5 KB a "
               "socket) and MemAvailable is %lld MiB: %lld fit; fewer workers (-w) match it",
               capacity, (long long)capacity * 5 / 1024, avail_kib / 1024, avail_kib / 5);
}

}  // namespace

void server_print_start(const ServerConfig &cfg, const char *strategy, long capacity) {
    if (cfg.quiet) return;
    printf("%s: listening on %s, strategy %s, up to %ld connections (RLIMIT_NOFILE %ld)\n",
           g_prog, cfg.addr, strategy, capacity, raise_fd_limit());
    fflush(stdout);
    if (cfg.workers > 0) warn_machine_limits(capacity);
}

const char *const kCounter[C_OWN] = {
    "accepted", "peak_open", "bytes_echoed", "idle_closed",  "reset",
    "io_error", "refused_nofd", "accept_error", "nomem",
};

void server_print_stats(const ServerConfig &cfg, const ServerStats &st) {
    if (cfg.quiet) return;
    printf("%s: stats", g_prog);
    for (int c = 0; c < C_OWN; c++) printf(" %s=%llu", kCounter[c], (unsigned long long)st.n[c]);
    for (int c = C_OWN; c < C_COUNT; c++)
        if (cfg.own_counter[c - C_OWN])
            printf(" %s=%llu", cfg.own_counter[c - C_OWN], (unsigned long long)st.n[c]);
    printf("\n");
    fflush(stdout);
}

void count_io_error(ServerStats *st, int err) {
    if (err == ECONNRESET || err == EPIPE || err == ETIMEDOUT)
        st->n[C_RESET]++;
    else
        st->n[C_IO_ERROR]++;
}

bool server_admit(int fd, long max_fds, ServerStats *st) {
    if (fd >= max_fds) {
        st->n[C_ACCEPT_ERROR]++;
        close_fd(fd);
        return false;
    }
    set_nodelay(fd);
    return true;
}

bool server_accept_failed(int err, int lfd, int *reserve_fd, ServerStats *st) {
    static bool warned;
    if (err == EAGAIN || err == EINTR || err == ECONNABORTED || err == EPROTO) return false;
    if (err == EMFILE || err == ENFILE) {
        if (!warned) warn_msg("accept (refusing connections until descriptors free up): %s",
                              strerror(err));
        warned = true;
        st->n[C_REFUSED_NOFD] += (uint64_t)emfile_refuse(lfd, reserve_fd);
        return true;
    }
    st->n[C_ACCEPT_ERROR]++;
    warn_msg("accept: %s", strerror(err));
    return false;
}

int server_accept(int lfd, int *reserve_fd, long max_fds, ServerStats *st) {
    for (;;) {
        int fd = accept_nb(lfd);
        if (fd >= 0) {
            if (server_admit(fd, max_fds, st)) return fd;
            continue;
        }
        int e = errno;
        if (e == ECONNABORTED || e == EPROTO) continue;
        server_accept_failed(e, lfd, reserve_fd, st);
        errno = e;
        return -1;
    }
}
