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
//   badsrv flip=OFFSET PORT    echo every byte as it comes, but byte OFFSET (from 0) of
//                              each connection's stream with its low bit flipped
//   badsrv skip=OFFSET PORT    echo every byte as it comes but byte OFFSET
//   badsrv record=FILE PORT    echo every byte as it comes, and append it to FILE
//   badsrv delay=MS PORT       echo each line MS milliseconds after it arrived
//   badsrv mute=N PORT         echo the first N lines of each connection, then read
//                              everything and never answer
//   badsrv http=KIND PORT      an HTTP/1.1 server gone wrong, a process per connection;
//                              to each request (up to its blank line) it answers:
//     malformed  a status line "HTTP/1.1 2OO OK"
//     short      Content-Length 10 and a 5-byte body, then a close
//     chunked    a chunked body in 3-byte writes 1 ms apart (TCP_NODELAY): cut inside
//                chunk-size lines, chunk data and CRLFs
//     bighead    header lines without end: 1 MiB of them, then a close
//     big        a body of 100 MiB (Content-Length), in 64 KiB writes
//     notfound   404 with a 10-byte body
//   badsrv drop PORT [EVERY [AFTER_MS]]
//     echo every line, but close every EVERYth accepted connection (default 10)
//     AFTER_MS after accepting it (default 300): the first of them with a FIN, the
//     next with a reset (SO_LINGER 0), and so on in turn
//
// Listens on $BADSRV_HOST instead, IPv4 or IPv6 (::1), where it is set.
// With $BADSRV_ACCEPT=N, closes its listener after accepting N connections: every
// later connect is refused (an RST to its SYN), those accepted are served on.
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
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace {

struct Conn {
    int len;
    char line[64];
    long long drop_at_ms;  // drop: when to close it; 0 never
    long long stray_at_ms; // stray: when to send a byte nobody asked for; 0 never
    long long echo_at_ms;  // delay: when to echo the line held; 0 none held
    long long off;         // flip, skip, record: bytes of the stream so far; mute: lines
    bool reset;            // drop: close with an RST rather than a FIN
};

long long now_ms() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int mode_of(const char *arg) {
    char s[16];
    snprintf(s, sizeof s, "%.*s", (int)strcspn(arg, "="), arg);
    static const char *const modes[] = {"close", "eof",      "garbage", "extra", "half",
                                        "silent", "noaccept", "drop",    "split", "stray",
                                        "flip",  "skip",     "record",  "delay", "http",
                                        "mute"};
    for (int i = 0; i < 16; i++)
        if (!strcmp(s, modes[i])) return i;
    return -1;
}
enum { M_CLOSE, M_EOF, M_GARBAGE, M_EXTRA, M_HALF, M_SILENT, M_NOACCEPT, M_DROP, M_SPLIT, M_STRAY,
       M_FLIP, M_SKIP, M_RECORD, M_DELAY, M_HTTP, M_MUTE };

bool write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

// flip, skip, record: the stream passes through as it comes, any size. The socket
// is blocking then: the client reads its echoes while it sends.
bool pass_through(int mode, Conn &c, int fd, char *buf, ssize_t n, long long arg, FILE *rec) {
    if (rec && fwrite(buf, 1, (size_t)n, rec) != (size_t)n) return false;
    if (rec) fflush(rec);
    ssize_t keep = n;
    if (arg >= c.off && arg < c.off + n) {
        size_t at = (size_t)(arg - c.off);
        if (mode == M_FLIP) buf[at] ^= 1;
        if (mode == M_SKIP) {
            memmove(buf + at, buf + at + 1, (size_t)(n - 1) - at);
            keep--;
        }
    }
    c.off += n;
    return write_all(fd, buf, (size_t)keep);
}

// http=KIND: one connection, blocking, until the client closes it.
void serve_http(int fd, const char *kind) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    static char big[1 << 16];
    memset(big, 'b', sizeof big);
    int seen = 0;  // of "\r\n\r\n": the end of a request
    for (;;) {
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) return;
        for (ssize_t i = 0; i < n; i++) {
            seen = buf[i] == "\r\n\r\n"[seen] ? seen + 1 : buf[i] == '\r' ? 1 : 0;
            if (seen < 4) continue;
            seen = 0;
            if (!strcmp(kind, "malformed")) {
                const char r[] = "HTTP/1.1 2OO OK\r\nContent-Length: 3\r\n\r\nok\n";
                if (!write_all(fd, r, sizeof r - 1)) return;
            } else if (!strcmp(kind, "short")) {
                const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort";
                write_all(fd, r, sizeof r - 1);
                return;
            } else if (!strcmp(kind, "chunked")) {
                const char r[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";
                for (size_t at = 0; at < sizeof r - 1; at += 3) {
                    size_t k = sizeof r - 1 - at < 3 ? sizeof r - 1 - at : 3;
                    if (!write_all(fd, r + at, k)) return;
                    usleep(1000);
                }
            } else if (!strcmp(kind, "bighead")) {
                const char r[] = "HTTP/1.1 200 OK\r\n";
                if (!write_all(fd, r, sizeof r - 1)) return;
                char line[1024];
                memset(line, 'h', sizeof line);
                memcpy(line, "X-Pad: ", 7);
                memcpy(line + sizeof line - 2, "\r\n", 2);
                for (int k = 0; k < 1024; k++)
                    if (!write_all(fd, line, sizeof line)) return;
                return;
            } else if (!strcmp(kind, "big")) {
                const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n";
                if (!write_all(fd, r, sizeof r - 1)) return;
                for (int k = 0; k < 1600; k++)
                    if (!write_all(fd, big, sizeof big)) return;
            } else {
                const char r[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nnot found\n";
                if (!write_all(fd, r, sizeof r - 1)) return;
            }
        }
    }
}

}  // namespace

int main(int argc, char **argv) {
    int mode = argc >= 3 ? mode_of(argv[1]) : -1;
    const char *eq = argc >= 3 ? strchr(argv[1], '=') : nullptr;
    bool with_arg = mode >= M_FLIP;
    if (mode < 0 || (mode != M_DROP && argc != 3) || argc > 5 || with_arg != (eq != nullptr)) {
        fprintf(stderr, "usage: badsrv close|eof|garbage|extra|half|silent|noaccept|split|stray port\n"
                        "       badsrv flip=offset|skip=offset|record=file|delay=ms|mute=lines port\n"
                        "       badsrv http=malformed|short|chunked|bighead|big|notfound port\n"
                        "       badsrv drop port [every [after-ms]]\n");
        return 2;
    }
    long long arg = with_arg ? atoll(eq + 1) : 0;
    FILE *rec = mode == M_RECORD ? fopen(eq + 1, "a") : nullptr;
    if (mode == M_RECORD && !rec) {
        perror(eq + 1);
        return 1;
    }
    long every = argc > 3 ? atol(argv[3]) : 10, after_ms = argc > 4 ? atol(argv[4]) : 300;
    long accepted = 0, dropped = 0;
    signal(SIGPIPE, SIG_IGN);
    if (mode == M_HTTP) signal(SIGCHLD, SIG_IGN);  // no zombies of the per-connection processes
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

    const char *accept_max = getenv("BADSRV_ACCEPT");
    long accept_left = accept_max ? atol(accept_max) : -1;
    // A negative fd is skipped by poll: the noaccept listener is never looked at.
    std::vector<pollfd> p = {{mode == M_NOACCEPT ? -1 : lfd, POLLIN, 0}};
    std::vector<Conn> conns(1);
    // Closes connection i; the last takes its place (the caller looks at i again).
    auto close_conn = [&](size_t i) {
        close(p[i].fd);
        p[i] = p.back();
        p.pop_back();
        conns[i] = conns.back();
        conns.pop_back();
    };
    for (;;) {
        bool timed = mode == M_DROP || mode == M_STRAY || mode == M_DELAY;
        if (poll(p.data(), p.size(), timed ? 10 : -1) < 0) continue;
        if (p[0].revents & POLLIN) {
            int fd;
            while (p[0].fd >= 0 && (fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
                if (accept_left > 0 && --accept_left == 0) {
                    close(lfd);  // BADSRV_ACCEPT: the next SYN gets an RST
                    p[0].fd = -1;
                }
                if (mode == M_HTTP) {
                    if (fork() == 0) {
                        if (p[0].fd >= 0) close(lfd);
                        serve_http(fd, eq + 1);
                        _exit(0);
                    }
                    close(fd);
                    continue;
                }
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
                if (mode == M_FLIP || mode == M_SKIP || mode == M_RECORD) {
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    int fl = fcntl(fd, F_GETFL);
                    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
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
            if (c.echo_at_ms && now >= c.echo_at_ms) {
                c.echo_at_ms = 0;
                (void)!write(p[i].fd, c.line, (size_t)c.len);
                c.len = 0;
                p[i].events = POLLIN;
            }
            if (c.drop_at_ms && now >= c.drop_at_ms) {
                if (c.reset) {
                    linger lg = {1, 0};
                    setsockopt(p[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
                } else {
                    // The FIN now: close() with a request unread would send an RST
                    // instead, and the client would rightly count a reset.
                    shutdown(p[i].fd, SHUT_WR);
                }
                p[i].revents = 0;
                c.len = -1;  // drop it below
            }
            if (!p[i].revents && c.len >= 0) continue;
            static char big[1 << 16];
            if (mode == M_FLIP || mode == M_SKIP || mode == M_RECORD) {
                ssize_t n = read(p[i].fd, big, sizeof big);
                if (n > 0 && pass_through(mode, c, p[i].fd, big, n, arg, rec)) continue;
                close_conn(i--);
                continue;
            }
            if (c.echo_at_ms) continue;  // delay: one line at a time
            char buf[256];
            ssize_t n = c.len < 0 ? 0 : read(p[i].fd, buf, sizeof buf);
            bool drop = n <= 0;
            for (ssize_t k = 0; k < n && c.len < (int)sizeof c.line; k++) c.line[c.len++] = buf[k];
            if (!drop && c.len > 0 && c.line[c.len - 1] == '\n') {  // a whole request line
                int fd = p[i].fd, l = c.len;
                c.len = 0;
                if (mode == M_DELAY) {
                    c.len = l;
                    c.echo_at_ms = now_ms() + arg;
                    p[i].events = 0;  // hold further input until the echo is out
                } else if (mode == M_EOF) {
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
                } else if (mode == M_MUTE) {
                    if (c.off++ < arg) (void)!write(fd, c.line, (size_t)l);
                } else if (mode == M_STRAY) {
                    (void)!write(fd, c.line, (size_t)l);
                    if (!c.stray_at_ms) c.stray_at_ms = now_ms() + 50;  // once idle again
                }
            }
            if (drop) close_conn(i--);
        }
    }
}
