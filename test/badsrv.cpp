// badsrv: a misbehaving echo server, to test how cli_flood reports broken servers.
//
//   badsrv MODE PORT    listen on 127.0.0.1:PORT (0: the kernel picks) and, per connection:
//     close    close it once the request has arrived, unread: the kernel resets it
//     eof      read the request line, then close without answering
//     garbage  answer the request line with as many other bytes
//     extra    echo the line, then more bytes than were sent
//     half     answer the first half of the line, then nothing
//     silent   read everything, never answer
//     noaccept a backlog of one, never accepted
//     split    echo each line in three pieces, 2 ms apart (TCP_NODELAY)
//     stray    echo each line, then 50 ms later send one byte nobody asked for
//   badsrv drop PORT [EVERY [AFTER_MS]]
//     echo every line, but close every EVERYth accepted connection (default 10)
//     AFTER_MS after accepting it (default 300): the first of them with a FIN, the
//     next with a reset (SO_LINGER 0), and so on in turn
//
// Listens on $BADSRV_HOST instead, IPv4 or IPv6 (::1), where it is set.
// Prints "badsrv: listening on 127.0.0.1:PORT, mode MODE" like the real servers'
// start line. Level-triggered poll, one small line buffer per connection.
#include <arpa/inet.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <ctime>
#include <unistd.h>
#include <vector>

namespace {

struct Conn {
    int len;
    char line[64];
    long long drop_at_ms;  // drop: when to close it; 0 never
    long long stray_at_ms; // stray: when to send a byte nobody asked for; 0 never
    bool reset;            // drop: close with an RST rather than a FIN
};

long long now_ms() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int mode_of(const char *s) {
    static const char *const modes[] = {"close", "eof",      "garbage", "extra", "half",
                                        "silent", "noaccept", "drop",    "split", "stray"};
    for (int i = 0; i < 10; i++)
        if (!strcmp(s, modes[i])) return i;
    return -1;
}
enum { M_CLOSE, M_EOF, M_GARBAGE, M_EXTRA, M_HALF, M_SILENT, M_NOACCEPT, M_DROP, M_SPLIT, M_STRAY };

}  // namespace

int main(int argc, char **argv) {
    int mode = argc >= 3 ? mode_of(argv[1]) : -1;
    if (mode < 0 || (mode != M_DROP && argc != 3) || argc > 5) {
        fprintf(stderr, "usage: badsrv close|eof|garbage|extra|half|silent|noaccept|split|stray port\n"
                        "       badsrv drop port [every [after-ms]]\n");
        return 2;
    }
    long every = argc > 3 ? atol(argv[3]) : 10, after_ms = argc > 4 ? atol(argv[4]) : 300;
    long accepted = 0, dropped = 0;
    signal(SIGPIPE, SIG_IGN);
    rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    const char *host = getenv("BADSRV_HOST");
    if (!host) host = "127.0.0.1";
    bool v6 = strchr(host, ':') != nullptr;
    sockaddr_storage ss = {};
    auto *in4 = (sockaddr_in *)&ss;
    auto *in6 = (sockaddr_in6 *)&ss;
    socklen_t len = v6 ? sizeof *in6 : sizeof *in4;
    uint16_t want_port = htons((uint16_t)atoi(argv[2]));
    if (v6 ? inet_pton(AF_INET6, host, &in6->sin6_addr) != 1 : inet_pton(AF_INET, host, &in4->sin_addr) != 1) {
        fprintf(stderr, "badsrv: BADSRV_HOST is not an IPv4 or IPv6 address: %s\n", host);
        return 2;
    }
    ss.ss_family = v6 ? AF_INET6 : AF_INET;
    if (v6) in6->sin6_port = want_port;
    else in4->sin_port = want_port;
    int lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (sockaddr *)&ss, len) != 0 || listen(lfd, mode == M_NOACCEPT ? 1 : 4096) != 0 ||
        getsockname(lfd, (sockaddr *)&ss, &len) != 0) {
        perror("badsrv: listen");
        return 1;
    }
    printf(v6 ? "badsrv: listening on [%s]:%d, mode %s\n" : "badsrv: listening on %s:%d, mode %s\n",
           host, ntohs(v6 ? in6->sin6_port : in4->sin_port), argv[1]);
    fflush(stdout);

    // A negative fd is skipped by poll: the noaccept listener is never looked at.
    std::vector<pollfd> p = {{mode == M_NOACCEPT ? -1 : lfd, POLLIN, 0}};
    std::vector<Conn> conns(1);
    for (;;) {
        bool timed = mode == M_DROP || mode == M_STRAY;
        if (poll(p.data(), p.size(), timed ? 10 : -1) < 0) continue;
        if (p[0].revents & POLLIN) {
            int fd;
            while ((fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
                if (mode == M_CLOSE) {
                    // Wait for the request (1 s at most), then close with it unread:
                    // always an RST, never a FIN that raced the request.
                    pollfd one = {fd, POLLIN, 0};
                    poll(&one, 1, 1000);
                    close(fd);
                    continue;
                }
                Conn c = {};
                if (mode == M_DROP && ++accepted % every == 0) {
                    c.drop_at_ms = now_ms() + after_ms;
                    c.reset = dropped++ % 2;
                }
                if (mode == M_SPLIT) {  // each piece its own segment
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                }
                p.push_back({fd, POLLIN, 0});
                conns.push_back(c);
            }
        }
        long long now = timed ? now_ms() : 0;
        for (size_t i = 1; i < p.size(); i++) {
            Conn &c = conns[i];
            if (c.stray_at_ms && now >= c.stray_at_ms) {
                c.stray_at_ms = 0;
                (void)!write(p[i].fd, "x", 1);
            }
            if (c.drop_at_ms && now >= c.drop_at_ms) {
                if (c.reset) {
                    linger lg = {1, 0};
                    setsockopt(p[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
                }
                p[i].revents = 0;
                c.len = -1;  // drop it below
            }
            if (!p[i].revents && c.len >= 0) continue;
            char buf[256];
            ssize_t n = c.len < 0 ? 0 : read(p[i].fd, buf, sizeof buf);
            bool drop = n <= 0;
            for (ssize_t k = 0; k < n && c.len < (int)sizeof c.line; k++) c.line[c.len++] = buf[k];
            if (!drop && c.len > 0 && c.line[c.len - 1] == '\n') {  // a whole request line
                int fd = p[i].fd, l = c.len;
                c.len = 0;
                if (mode == M_EOF) {
                    drop = true;
                } else if (mode == M_GARBAGE) {
                    char g[64];
                    for (int k = 0; k < l - 1; k++) g[k] = (char)('a' + k % 26);
                    g[l - 1] = '\n';
                    (void)!write(fd, g, (size_t)l);
                } else if (mode == M_EXTRA) {
                    char g[80];  // one write, so the excess arrives with the echo
                    memcpy(g, c.line, (size_t)l);
                    memcpy(g + l, "extra\n", 6);
                    (void)!write(fd, g, (size_t)l + 6);
                } else if (mode == M_HALF) {
                    (void)!write(fd, c.line, (size_t)l / 2);
                } else if (mode == M_DROP) {
                    (void)!write(fd, c.line, (size_t)l);
                } else if (mode == M_SPLIT) {
                    // Three pieces, 2 ms apart: the client must put them together.
                    int a = l / 3, b = 2 * l / 3;
                    (void)!write(fd, c.line, (size_t)a);
                    usleep(2000);
                    (void)!write(fd, c.line + a, (size_t)(b - a));
                    usleep(2000);
                    (void)!write(fd, c.line + b, (size_t)(l - b));
                } else if (mode == M_STRAY) {
                    (void)!write(fd, c.line, (size_t)l);
                    if (!c.stray_at_ms) c.stray_at_ms = now_ms() + 50;  // once idle again
                }
            }
            if (drop) {
                close(p[i].fd);
                p[i] = p.back();
                p.pop_back();
                conns[i] = conns.back();
                conns.pop_back();
                i--;
            }
        }
    }
}
