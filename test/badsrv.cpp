// badsrv: a misbehaving echo server, to test how cli_flood reports broken servers.
//
//   badsrv MODE PORT    listen on 127.0.0.1:PORT (0: the kernel picks) and, per connection:
//     close    close it at once, before the request is read
//     eof      read the request line, then close without answering
//     garbage  answer the request line with as many other bytes
//     extra    echo the line, then more bytes than were sent
//     half     answer the first half of the line, then nothing
//     silent   read everything, never answer
//     noaccept a backlog of one, never accepted
//
// Prints "badsrv: listening on 127.0.0.1:PORT, mode MODE" like the real servers'
// start line. Level-triggered poll, one small line buffer per connection.
#include <arpa/inet.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

struct Conn {
    int len;
    char line[64];
};

int mode_of(const char *s) {
    static const char *const modes[] = {"close", "eof",    "garbage", "extra",
                                        "half",  "silent", "noaccept"};
    for (int i = 0; i < 7; i++)
        if (!strcmp(s, modes[i])) return i;
    return -1;
}
enum { M_CLOSE, M_EOF, M_GARBAGE, M_EXTRA, M_HALF, M_SILENT, M_NOACCEPT };

}  // namespace

int main(int argc, char **argv) {
    int mode = argc == 3 ? mode_of(argv[1]) : -1;
    if (mode < 0) {
        fprintf(stderr, "usage: badsrv close|eof|garbage|extra|half|silent|noaccept port\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa = {};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(argv[2]));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (bind(lfd, (sockaddr *)&sa, len) != 0 || listen(lfd, mode == M_NOACCEPT ? 1 : 4096) != 0 ||
        getsockname(lfd, (sockaddr *)&sa, &len) != 0) {
        perror("badsrv: listen");
        return 1;
    }
    printf("badsrv: listening on 127.0.0.1:%d, mode %s\n", ntohs(sa.sin_port), argv[1]);
    fflush(stdout);

    // A negative fd is skipped by poll: the noaccept listener is never looked at.
    std::vector<pollfd> p = {{mode == M_NOACCEPT ? -1 : lfd, POLLIN, 0}};
    std::vector<Conn> conns(1);
    for (;;) {
        if (poll(p.data(), p.size(), -1) < 0) continue;
        if (p[0].revents & POLLIN) {
            int fd;
            while ((fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
                if (mode == M_CLOSE) {
                    close(fd);
                    continue;
                }
                p.push_back({fd, POLLIN, 0});
                conns.push_back(Conn{});
            }
        }
        for (size_t i = 1; i < p.size(); i++) {
            if (!p[i].revents) continue;
            Conn &c = conns[i];
            char buf[256];
            ssize_t n = read(p[i].fd, buf, sizeof buf);
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
