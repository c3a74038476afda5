// cli_flood: non-blocking load generator for the timestamp echo servers.
//
// One process, one epoll loop. Each connection sends its CLOCK_MONOTONIC time as a
// line, waits for the same bytes back, takes the round trip from the echoed value,
// and either sends the next request (-r) or closes and makes room for a new one.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <getopt.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/hist.h"
#include "../common/net.h"
#include "../common/util.h"

namespace {

enum Failure {
    F_REFUSED, F_CONNECT_TIMEOUT, F_RESET, F_READ_TIMEOUT, F_CLOSED_EARLY, F_MISMATCH,
    F_NO_PORTS, F_NO_FDS, F_OTHER, F_INTERRUPTED, F_COUNT
};
const char *const kFailureName[F_COUNT] = {
    "refused", "connect_timeout", "reset", "read_timeout", "closed_early", "mismatch",
    "no_ports", "no_descriptors", "other", "interrupted",
};

enum State : uint8_t { S_FREE, S_CONNECTING, S_WAIT_ECHO };

struct Slot {
    uint64_t sent_ns;      // timestamp in flight
    uint64_t deadline_ns;
    uint32_t quota, done;  // requests this connection carries, requests it finished
    State state;
    uint8_t tx_off, tx_len, rx_len;
    char tx[24], rx[24];
};

struct Options {
    const char *host = "127.0.0.1";
    int port = 9000;
    long long requests = 10000;
    long long concurrency = 0;  // 0: as many as requests
    long long per_conn = 1;
    long long timeout_s = 10;
    bool json = false;
};

Options opt;
Endpoint target;
Slot *slots;
long max_fds;
int ep_fd;
int max_slot_fd = -1;

Histogram hist;
long long unassigned;   // requests not yet given to a connection
long long in_flight_conns;
uint64_t succeeded, failed, connections, peak_open;
uint64_t failures[F_COUNT];

void usage(FILE *out) {
    fprintf(out,
            "usage: cli_flood [-h] [--json] [-a host] [-c concurrency] [-n requests]\n"
            "                 [-p port] [-r requests-per-connection] [-t timeout-seconds]\n");
}

Failure classify(int err, State state) {
    switch (err) {
    case ECONNREFUSED: return F_REFUSED;
    case ECONNRESET: return F_RESET;
    case EPIPE: return F_CLOSED_EARLY;
    case ETIMEDOUT: return state == S_CONNECTING ? F_CONNECT_TIMEOUT : F_READ_TIMEOUT;
    case EADDRNOTAVAIL: case EADDRINUSE: return F_NO_PORTS;
    case EMFILE: case ENFILE: case ENOBUFS: case ENOMEM: return F_NO_FDS;
    default: return F_OTHER;
    }
}

void fail_requests(Failure why, uint64_t n) {
    failures[why] += n;
    failed += n;
}

void finish(int fd, Failure why, bool ok) {
    Slot &s = slots[fd];
    if (!ok) fail_requests(why, s.quota - s.done);
    s.state = S_FREE;
    close(fd);  // closing drops it from the epoll set
    in_flight_conns--;
}

bool send_request(int fd, Slot &s) {
    State was = s.state;
    s.sent_ns = mono_ns();
    s.deadline_ns = s.sent_ns + (uint64_t)opt.timeout_s * 1000000000u;
    s.tx_len = (uint8_t)encode_ts(s.sent_ns, s.tx);
    s.tx_off = 0;
    s.rx_len = 0;
    s.state = S_WAIT_ECHO;
    ssize_t n = write(fd, s.tx, s.tx_len);
    if (n < 0) {
        if (errno == EAGAIN) return true;  // EPOLLOUT will retry
        finish(fd, classify(errno, was), false);
        return false;
    }
    s.tx_off = (uint8_t)n;
    return true;
}

void start_connection(uint64_t now) {
    long long quota = unassigned < opt.per_conn ? unassigned : opt.per_conn;
    unassigned -= quota;
    int fd = connect_nb(target);
    if (fd < 0) {
        fail_requests(classify(errno, S_CONNECTING), (uint64_t)quota);
        return;
    }
    if (fd >= max_fds) {  // cannot happen with the budget check; keep the array safe
        close(fd);
        fail_requests(F_NO_FDS, (uint64_t)quota);
        return;
    }
    set_nodelay(fd);
    epoll_event ev = {};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.fd = fd;
    if (epoll_ctl(ep_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        int e = errno;
        close(fd);
        fail_requests(classify(e, S_CONNECTING), (uint64_t)quota);
        return;
    }
    Slot &s = slots[fd];
    s = Slot{};
    s.quota = (uint32_t)quota;
    s.state = S_CONNECTING;
    s.deadline_ns = now + (uint64_t)opt.timeout_s * 1000000000u;
    if (fd > max_slot_fd) max_slot_fd = fd;
    connections++;
    if ((uint64_t)++in_flight_conns > peak_open) peak_open = (uint64_t)in_flight_conns;
}

void on_readable(int fd, Slot &s, uint64_t now) {
    for (;;) {
        char buf[64];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EAGAIN) return;
            if (errno == EINTR) continue;
            finish(fd, classify(errno, S_WAIT_ECHO), false);
            return;
        }
        if (n == 0) {
            finish(fd, F_CLOSED_EARLY, false);
            return;
        }
        if (s.rx_len + n > s.tx_len) {  // more than we sent: not an echo
            finish(fd, F_MISMATCH, false);
            return;
        }
        memcpy(s.rx + s.rx_len, buf, (size_t)n);
        s.rx_len = (uint8_t)(s.rx_len + n);
        if (s.rx_len < s.tx_len) continue;
        uint64_t echoed;
        if (memcmp(s.rx, s.tx, s.tx_len) != 0 || !decode_ts(s.rx, s.rx_len, &echoed)) {
            finish(fd, F_MISMATCH, false);
            return;
        }
        now = mono_ns();
        hist.add(now - echoed);
        succeeded++;
        if (++s.done == s.quota) {
            finish(fd, F_OTHER, true);
            return;
        }
        if (!send_request(fd, s)) return;
    }
}

void on_event(int fd, uint32_t e, uint64_t now) {
    Slot &s = slots[fd];
    if (s.state == S_CONNECTING) {
        if (!(e & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        // No getsockopt(SO_ERROR): a failed connect makes this write fail with its errno.
        if (!send_request(fd, s)) return;
    } else if (s.tx_off < s.tx_len && (e & EPOLLOUT)) {
        ssize_t n = write(fd, s.tx + s.tx_off, s.tx_len - s.tx_off);
        if (n < 0 && errno != EAGAIN) {
            finish(fd, classify(errno, S_WAIT_ECHO), false);
            return;
        }
        if (n > 0) s.tx_off = (uint8_t)(s.tx_off + n);
    }
    if (s.state == S_WAIT_ECHO && (e & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)))
        on_readable(fd, s, now);
}

void expire(uint64_t now) {
    for (int fd = 0; fd <= max_slot_fd; fd++) {
        Slot &s = slots[fd];
        if (s.state != S_FREE && now >= s.deadline_ns)
            finish(fd, s.state == S_CONNECTING ? F_CONNECT_TIMEOUT : F_READ_TIMEOUT, false);
    }
}

double us(uint64_t ns) { return (double)ns / 1000.0; }

void report(double wall_s) {
    double rps = wall_s > 0 ? (double)succeeded / wall_s : 0;
    double cps = wall_s > 0 ? (double)connections / wall_s : 0;
    if (opt.json) {
        printf("{\"requests\":%lld,\"succeeded\":%llu,\"failed\":%llu,\"failures\":{", opt.requests,
               (unsigned long long)succeeded, (unsigned long long)failed);
        for (int i = 0; i < F_COUNT; i++)
            printf("%s\"%s\":%llu", i ? "," : "", kFailureName[i], (unsigned long long)failures[i]);
        printf("},\"latency_us\":{\"min\":%.1f,\"avg\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
               "\"p999\":%.1f,\"max\":%.1f},",
               us(hist.min()), hist.mean() / 1000.0, us(hist.quantile(0.5)), us(hist.quantile(0.9)),
               us(hist.quantile(0.99)), us(hist.quantile(0.999)), us(hist.max()));
        printf("\"requests_per_s\":%.1f,\"connections_per_s\":%.1f,\"wall_s\":%.3f,\"peak_open\":%llu,"
               "\"connections\":%llu,\"concurrency\":%lld,\"per_connection\":%lld}\n",
               rps, cps, wall_s, (unsigned long long)peak_open, (unsigned long long)connections,
               opt.concurrency, opt.per_conn);
        return;
    }
    char where[64];
    format_endpoint(target, where, sizeof where);
    printf("cli_flood: %s, %lld requests, %lld concurrent, %lld per connection\n", where,
           opt.requests, opt.concurrency, opt.per_conn);
    printf("  requests    %llu succeeded, %llu failed\n", (unsigned long long)succeeded,
           (unsigned long long)failed);
    if (failed) {
        printf("  failures   ");
        for (int i = 0; i < F_COUNT; i++)
            if (failures[i]) printf(" %s %llu", kFailureName[i], (unsigned long long)failures[i]);
        printf("\n");
    }
    printf("  latency us  min %.1f  avg %.1f  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
           us(hist.min()), hist.mean() / 1000.0, us(hist.quantile(0.5)), us(hist.quantile(0.9)),
           us(hist.quantile(0.99)), us(hist.quantile(0.999)), us(hist.max()));
    printf("  rate        %.0f requests/s, %.0f connections/s\n", rps, cps);
    printf("  wall        %.3f s, peak %llu open connections\n", wall_s,
           (unsigned long long)peak_open);
}

void parse_args(int argc, char **argv) {
    static const option longopts[] = {
        {"json", no_argument, nullptr, 'J'},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "a:c:hn:p:r:t:", longopts, nullptr)) != -1) {
        switch (ch) {
        case 'a': opt.host = optarg; break;
        case 'c': opt.concurrency = num_arg(optarg, 1, 10000000, "concurrency"); break;
        case 'n': opt.requests = num_arg(optarg, 1, 1000000000000LL, "number of requests"); break;
        case 'p': opt.port = (int)num_arg(optarg, 1, 65535, "port"); break;
        case 'r': opt.per_conn = num_arg(optarg, 1, 1000000000, "requests per connection"); break;
        case 't': opt.timeout_s = num_arg(optarg, 1, 3600, "timeout"); break;
        case 'J': opt.json = true; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(EXIT_USAGE);
        }
    }
    if (optind != argc) {
        warnx_("unexpected argument: %s", argv[optind]);
        usage(stderr);
        exit(EXIT_USAGE);
    }
    char err[kErrLen];
    if (!resolve(opt.host, opt.port, &target, err)) die(EXIT_USAGE, "-a: %s", err);
    // Each connection carries up to -r requests; more connections than that would idle.
    long long conns_needed = (opt.requests + opt.per_conn - 1) / opt.per_conn;
    if (opt.concurrency == 0 || opt.concurrency > conns_needed) opt.concurrency = conns_needed;
}

}  // namespace

int main(int argc, char **argv) {
    g_prog = "cli_flood";
    parse_args(argc, argv);
    max_fds = raise_fd_limit();
    long need = (long)opt.concurrency + 8;  // stdio, epoll and a little slack
    if (need > max_fds)
        die(EXIT_RUNTIME,
            "-c %lld needs %ld descriptors but RLIMIT_NOFILE allows %ld; lower -c, raise the "
            "hard limit (ulimit -Hn, limits.conf), or run several cli_flood processes",
            opt.concurrency, need, max_fds);
    sigset_t wait_mask;
    setup_signals(&wait_mask);
    slots = (Slot *)calloc((size_t)max_fds, sizeof *slots);
    ep_fd = epoll_create1(EPOLL_CLOEXEC);
    if (!slots || ep_fd < 0) die_errno(EXIT_RUNTIME, "setting up");

    unassigned = opt.requests;
    // Open the whole -c at once, as the experiment asks: all connections in flight together.
    const long long kLaunchBatch = opt.concurrency;
    static epoll_event events[1024];
    uint64_t start = mono_ns(), last_expire = start;
    while (!stop_requested() && (unassigned > 0 || in_flight_conns > 0)) {
        uint64_t now = mono_ns();
        for (int k = 0; k < kLaunchBatch && unassigned > 0 && in_flight_conns < opt.concurrency; k++)
            start_connection(now);
        bool more = unassigned > 0 && in_flight_conns < opt.concurrency;
        int n = epoll_pwait(ep_fd, events, 1024, more ? 0 : 100, &wait_mask);
        if (n < 0 && errno != EINTR) die_errno(EXIT_RUNTIME, "epoll_wait");
        now = mono_ns();
        for (int i = 0; i < n; i++) on_event(events[i].data.fd, events[i].events, now);
        if (now - last_expire >= 100000000u) {
            last_expire = now;
            expire(now);
        }
    }
    double wall_s = (double)(mono_ns() - start) / 1e9;
    if (g_stop) {
        for (int fd = 0; fd <= max_slot_fd; fd++)
            if (slots[fd].state != S_FREE) finish(fd, F_INTERRUPTED, false);
        fail_requests(F_INTERRUPTED, (uint64_t)unassigned);
    }
    report(wall_s);
    return failed ? EXIT_RUNTIME : 0;
}
