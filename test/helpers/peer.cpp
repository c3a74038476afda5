// peer: well- and badly-behaved single clients for the integration tests.
//
//   peer PORT echo BYTES [OPTS]   send BYTES, check the echo byte for byte. OPTS is a
//                                 comma list: `slow` reads in small sips through a tiny
//                                 receive buffer (the server's writes come up short);
//                                 `random` (seeded bytes: the seed goes to stderr,
//                                 PEER_SEED=N replays it), `zeros` (all NUL), `nonl`
//                                 (no '\n' anywhere) pick the bytes (default: a hash of
//                                 the offset that hits every value); `bytewise` makes
//                                 every send() one byte; `drip` sends one byte, waits
//                                 for its echo and 1 ms, then the next
//   peer PORT halfclose BYTES     send, shutdown(SHUT_WR), expect exactly BYTES back, then EOF
//   peer PORT reset BYTES         send, wait for the echo to begin, then close with
//                                 SO_LINGER 0 (an RST) with the rest unread
//   peer PORT hold N SECONDS [until-closed]
//                                 open N connections, keep them idle, then close; counts
//                                 the ones the server closed meanwhile; until-closed
//                                 stops early once the server has closed them all, and
//                                 reports how long each had been idle when it was
//                                 (idle_min, idle_max, in seconds since its connect)
//   peer PORT busy SECONDS MS     one connection that sends 16 bytes and reads their
//                                 echo every MS milliseconds for SECONDS; fails if the
//                                 server closes it
//   peer PORT noread N SECONDS    N connections send as fast as they can and never read;
//                                 reports how much each got into the connection, and
//                                 how many the server closed (each is then left
//                                 alone, the rest go on; fails if any was)
//
// Dials 127.0.0.1, or the IPv4 or IPv6 address in $PEER_HOST (the netns test's
// server, ::1).
// Prints one line "peer: <mode> sent=N echoed=N ok|FAIL reason"; exit 0 only on ok.
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

static int port;

static int dial(int rcvbuf) {
    const char *host = getenv("PEER_HOST");
    if (!host) host = "127.0.0.1";
    sockaddr_storage ss = {};
    socklen_t len;
    if (strchr(host, ':')) {
        auto *in6 = (sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) return -1;
        len = sizeof *in6;
    } else {
        auto *in4 = (sockaddr_in *)&ss;
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &in4->sin_addr) != 1) return -1;
        len = sizeof *in4;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (rcvbuf) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (connect(fd, (sockaddr *)&ss, len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static double now_s() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum Pattern { P_HASH, P_RANDOM, P_ZEROS, P_NONL };
static Pattern pattern = P_HASH;
static uint64_t seed;

static unsigned char byte_at(size_t i) {  // position-dependent, so the check needs no copy
    switch (pattern) {
    case P_ZEROS: return 0;
    case P_RANDOM: {  // splitmix64 of the offset: every byte value, no structure
        uint64_t z = seed + (uint64_t)(i / 8 + 1) * 0x9e3779b97f4a7c15ull;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        return (unsigned char)(z >> (8 * (i % 8)));
    }
    default: {
        uint32_t x = (uint32_t)i * 2654435761u;  // cheap, hits every value
        unsigned char b = (unsigned char)((x >> 13) ^ (x >> 24));
        return pattern == P_NONL && b == '\n' ? 'n' : b;
    }
    }
}

static int result(const char *mode, size_t sent, size_t echoed, const char *fail) {
    printf("peer: %s sent=%zu echoed=%zu %s%s\n", mode, sent, echoed, fail ? "FAIL " : "ok",
           fail ? fail : "");
    return fail ? 1 : 0;
}

// Writes and reads together so neither side's buffers can deadlock the other.
static int echo(size_t total, const char *opts, bool halfclose) {
    bool slow = strstr(opts, "slow"), bytewise = strstr(opts, "bytewise"), drip = strstr(opts, "drip");
    if (strstr(opts, "random")) pattern = P_RANDOM;
    if (strstr(opts, "zeros")) pattern = P_ZEROS;
    if (strstr(opts, "nonl")) pattern = P_NONL;
    char mode[64];
    snprintf(mode, sizeof mode, "%s%s%s", halfclose ? "halfclose" : "echo", *opts ? "-" : "", opts);
    int fd = dial(slow ? 4096 : 0);
    if (fd < 0) return result(mode, 0, 0, "connect failed");
    if (bytewise || drip) {  // each one-byte send() its own segment, as a typist's would be
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    size_t sent = 0, got = 0;
    std::vector<unsigned char> out(65536), in(65536);
    bool shut = false;
    for (;;) {
        if (halfclose && sent == total && !shut) {
            shutdown(fd, SHUT_WR);
            shut = true;
        }
        bool may_send = sent < total && (!drip || got == sent);
        pollfd p = {fd, (short)(POLLIN | (may_send ? POLLOUT : 0)), 0};
        int r = poll(&p, 1, 5000);
        if (r == 0) return result(mode, sent, got, "timed out waiting for the echo");
        if (p.revents & POLLOUT) {
            size_t n = total - sent < out.size() ? total - sent : out.size();
            if (bytewise || drip) n = 1;
            for (size_t i = 0; i < n; i++) out[i] = byte_at(sent + i);
            ssize_t w = send(fd, out.data(), n, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN) return result(mode, sent, got, strerror(errno));
            if (w > 0) sent += (size_t)w;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, in.data(), slow ? 512 : in.size(), MSG_DONTWAIT);
            if (n < 0 && errno != EAGAIN) return result(mode, sent, got, strerror(errno));
            if (n == 0) {
                if (!halfclose) return result(mode, sent, got, "server closed early");
                if (got != total) return result(mode, sent, got, "EOF before every byte came back");
                close(fd);
                return result(mode, sent, got, nullptr);
            }
            for (ssize_t i = 0; i < n; i++)
                if (in[(size_t)i] != byte_at(got + (size_t)i))
                    return result(mode, sent, got + (size_t)i, "echoed byte differs");
            if (n > 0) got += (size_t)n;
            if (got > total) return result(mode, sent, got, "more bytes came back than were sent");
            if (slow) usleep(200);
            if (drip && n > 0) usleep(1000);
        }
        if (!halfclose && got == total && sent == total) {
            close(fd);
            return result(mode, sent, got, nullptr);
        }
    }
}

// Sends everything, waits until the echo has begun (the server is mid-stream,
// with more to send), then resets. Fails if the send fell short or no byte came
// back within 5 s: then the reset would not have hit an echo in flight.
static int reset(size_t total) {
    int fd = dial(0);
    if (fd < 0) return result("reset", 0, 0, "connect failed");
    std::vector<unsigned char> out(total);
    for (size_t i = 0; i < total; i++) out[i] = byte_at(i);
    size_t sent = 0;
    while (sent < total) {
        ssize_t w = send(fd, out.data() + sent, total - sent, MSG_NOSIGNAL);
        if (w <= 0) break;
        sent += (size_t)w;
    }
    timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char b;
    ssize_t got = recv(fd, &b, 1, 0);
    linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    const char *fail = sent < total ? "send fell short" : got != 1 ? "no echo before the reset" : nullptr;
    return result("reset", sent, got == 1 ? 1 : 0, fail);
}

// True when the server has closed (FIN or RST) this idle connection.
static bool closed_by_server(int fd) {
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN);
}

// until_closed: stop as soon as the server has closed every connection, which a
// server that forks for each may take long to do (it starts each one's timeout
// only once its child runs). Each close is timed from that connection's connect,
// to the poll wakeup that saw it (a few ms late at most).
static int hold(int n, int seconds, bool until_closed) {
    std::vector<int> fds;
    std::vector<pollfd> p;
    std::vector<double> opened;
    for (int i = 0; i < n; i++) {
        int fd = dial(0);
        if (fd < 0) break;
        fds.push_back(fd);
        p.push_back({fd, POLLRDHUP, 0});
        opened.push_back(now_s());
    }
    printf("peer: hold opened=%zu\n", fds.size());
    fflush(stdout);
    double start = now_s(), end = start + seconds, idle_min = 1e9, idle_max = 0;
    if (!until_closed) sleep((unsigned)seconds);
    for (size_t gone = 0; until_closed && gone < p.size() && now_s() < end;) {
        if (poll(p.data(), p.size(), (int)((end - now_s()) * 1000) + 1) <= 0) continue;
        double t = now_s();
        for (size_t i = 0; i < p.size(); i++) {
            if (p[i].fd < 0 || !p[i].revents) continue;
            p[i].fd = -1;  // poll skips it from now on
            gone++;
            if (t - opened[i] < idle_min) idle_min = t - opened[i];
            if (t - opened[i] > idle_max) idle_max = t - opened[i];
        }
    }
    if (until_closed)
        printf("peer: hold waited=%.1f idle_min=%.3f idle_max=%.3f\n", now_s() - start,
               idle_max > 0 ? idle_min : 0, idle_max);
    int closed = 0;
    for (int fd : fds) {
        closed += closed_by_server(fd);
        close(fd);
    }
    printf("peer: hold closed_by_server=%d\n", closed);
    return fds.size() == (size_t)n ? 0 : 1;
}

// A client that is never idle for long: a small request every ms milliseconds,
// each echo read back and checked before the next.
static int busy(int seconds, int ms) {
    int fd = dial(0);
    if (fd < 0) return result("busy", 0, 0, "connect failed");
    size_t sent = 0, got = 0;
    unsigned char out[16], in[16];
    char why[96];
    double start = now_s();
    while (now_s() - start < seconds) {
        for (size_t i = 0; i < sizeof out; i++) out[i] = byte_at(sent + i);
        if (send(fd, out, sizeof out, MSG_NOSIGNAL) != (ssize_t)sizeof out) {
            snprintf(why, sizeof why, "send failed after %.2f s: %s", now_s() - start, strerror(errno));
            return result("busy", sent, got, why);
        }
        sent += sizeof out;
        for (size_t have = 0; have < sizeof in;) {
            pollfd q = {fd, POLLIN, 0};
            ssize_t r = poll(&q, 1, 5000) == 1 ? recv(fd, in + have, sizeof in - have, 0) : -2;
            if (r <= 0) {
                snprintf(why, sizeof why, "%s after %.2f s", r == 0 ? "server closed the connection"
                         : r == -2 ? "no echo within 5 s" : strerror(errno), now_s() - start);
                return result("busy", sent, got, why);
            }
            have += (size_t)r;
        }
        for (size_t i = 0; i < sizeof in; i++)
            if (in[i] != byte_at(got + i)) return result("busy", sent, got + i, "echoed byte differs");
        got += sizeof in;
        usleep((useconds_t)ms * 1000);
    }
    close(fd);
    return result("busy", sent, got, nullptr);
}

// Sends without ever reading. A server that keeps reading and buffering the echo
// would let this go on without end; one with backpressure stops it after the
// socket buffers and its own bounded queue are full.
static int noread(int n, int seconds) {
    std::vector<pollfd> p;
    std::vector<size_t> sent;
    for (int i = 0; i < n; i++) {
        int fd = dial(0);
        if (fd < 0) return result("noread", 0, 0, "connect failed");
        p.push_back({fd, POLLOUT, 0});
        sent.push_back(0);
    }
    static char buf[65536];
    memset(buf, 'x', sizeof buf);
    double end = now_s() + seconds, last_progress = now_s();
    printf("peer: noread started\n");
    fflush(stdout);
    // Leaving at the first close would reset the others before the server's verdict.
    int closed = 0;
    const char *why = nullptr;
    while (now_s() < end && closed < n) {
        if (poll(p.data(), p.size(), 100) < 0) break;
        for (size_t i = 0; i < p.size(); i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLOUT | POLLERR | POLLHUP))) continue;
            ssize_t w = send(p[i].fd, buf, sizeof buf, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN) {
                if (!why) why = strerror(errno);
                close(p[i].fd);
                p[i].fd = -1;  // poll skips it
                closed++;
                continue;
            }
            if (w > 0) {
                sent[i] += (size_t)w;
                last_progress = now_s();
            }
        }
    }
    size_t total = 0, most = 0;
    for (size_t s : sent) {
        total += s;
        if (s > most) most = s;
    }
    printf("peer: noread conns=%d sent=%zu max_per_conn=%zu stalled_for=%.1f closed_by_server=%d %s%s\n",
           n, total, most, end - last_progress, closed, why ? "FAIL " : "ok", why ? why : "");
    for (pollfd &q : p)
        if (q.fd >= 0) close(q.fd);
    return why ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: peer port echo|halfclose|reset|hold|noread|busy bytes|count|seconds "
                        "[opts|seconds]\n");
        return 2;
    }
    rlimit rl;  // hold and noread open thousands of connections
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    seed = (uint64_t)ts.tv_nsec * 1000003u ^ (uint64_t)getpid();
    // PEER_SEED replays the random bytes of a failed run; the seed is always told.
    if (const char *s = getenv("PEER_SEED")) seed = strtoull(s, nullptr, 0);
    if (strstr(argc > 4 ? argv[4] : "", "random")) fprintf(stderr, "peer: seed %llu\n", (unsigned long long)seed);
    port = atoi(argv[1]);
    const char *mode = argv[2];
    size_t n = strtoull(argv[3], nullptr, 10);
    const char *opts = argc > 4 ? argv[4] : "";
    if (!strcmp(mode, "echo")) return echo(n, opts, false);
    if (!strcmp(mode, "halfclose")) return echo(n, opts, true);
    if (!strcmp(mode, "reset")) return reset(n);
    if (!strcmp(mode, "hold"))
        return hold((int)n, argc > 4 ? atoi(argv[4]) : 1, argc > 5 && !strcmp(argv[5], "until-closed"));
    if (!strcmp(mode, "busy")) return busy((int)n, argc > 4 ? atoi(argv[4]) : 100);
    if (!strcmp(mode, "noread")) return noread((int)n, argc > 4 ? atoi(argv[4]) : 1);
    fprintf(stderr, "peer: unknown mode %s\n", mode);
    return 2;
}
