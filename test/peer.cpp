// peer: well- and badly-behaved single clients for the integration tests.
//
//   peer PORT echo BYTES [slow]   send BYTES pseudo-random bytes, check the echo
//                                 byte for byte; `slow` reads in small sips with a
//                                 tiny receive buffer, so the server's writes come up short
//   peer PORT halfclose BYTES     send, shutdown(SHUT_WR), expect exactly BYTES back, then EOF
//   peer PORT reset BYTES         send, then close with SO_LINGER 0 (an RST) without reading
//   peer PORT hold N SECONDS      open N connections, keep them idle, then close
//
// Dials 127.0.0.1, or the IPv4 address in $PEER_HOST (the netns test's server).
// Prints one line "peer: <mode> sent=N echoed=N ok|FAIL reason"; exit 0 only on ok.
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

static int port;

static int dial(int rcvbuf) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (rcvbuf) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in sa = {};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const char *host = getenv("PEER_HOST");
    if (host && inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        close(fd);
        return -1;
    }
    if (connect(fd, (sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static unsigned char byte_at(size_t i) {  // cheap, position-dependent, hits every value
    uint32_t x = (uint32_t)i * 2654435761u;
    return (unsigned char)((x >> 13) ^ (x >> 24));
}

static int result(const char *mode, size_t sent, size_t echoed, const char *fail) {
    printf("peer: %s sent=%zu echoed=%zu %s%s\n", mode, sent, echoed, fail ? "FAIL " : "ok",
           fail ? fail : "");
    return fail ? 1 : 0;
}

// Writes and reads together so neither side's buffers can deadlock the other.
static int echo(size_t total, bool slow, bool halfclose) {
    const char *mode = halfclose ? "halfclose" : slow ? "echo-slow" : "echo";
    int fd = dial(slow ? 4096 : 0);
    if (fd < 0) return result(mode, 0, 0, "connect failed");
    size_t sent = 0, got = 0;
    std::vector<unsigned char> out(65536), in(65536);
    bool shut = false;
    for (;;) {
        if (halfclose && sent == total && !shut) {
            shutdown(fd, SHUT_WR);
            shut = true;
        }
        pollfd p = {fd, (short)(POLLIN | (sent < total ? POLLOUT : 0)), 0};
        int r = poll(&p, 1, 5000);
        if (r == 0) return result(mode, sent, got, "timed out waiting for the echo");
        if (p.revents & POLLOUT) {
            size_t n = total - sent < out.size() ? total - sent : out.size();
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
        }
        if (!halfclose && got == total && sent == total) {
            close(fd);
            return result(mode, sent, got, nullptr);
        }
    }
}

static int reset(size_t total) {
    int fd = dial(0);
    if (fd < 0) return result("reset", 0, 0, "connect failed");
    std::vector<unsigned char> out(total);
    for (size_t i = 0; i < total; i++) out[i] = byte_at(i);
    ssize_t w = send(fd, out.data(), total, MSG_NOSIGNAL);
    linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    return result("reset", w > 0 ? (size_t)w : 0, 0, nullptr);
}

static int hold(int n, int seconds) {
    std::vector<int> fds;
    for (int i = 0; i < n; i++) {
        int fd = dial(0);
        if (fd < 0) break;
        fds.push_back(fd);
    }
    printf("peer: hold opened=%zu\n", fds.size());
    fflush(stdout);
    sleep((unsigned)seconds);
    for (int fd : fds) close(fd);
    return fds.size() == (size_t)n ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: peer port echo|halfclose|reset|hold bytes|count [slow|seconds]\n");
        return 2;
    }
    port = atoi(argv[1]);
    const char *mode = argv[2];
    size_t n = strtoull(argv[3], nullptr, 10);
    if (!strcmp(mode, "echo")) return echo(n, argc > 4 && !strcmp(argv[4], "slow"), false);
    if (!strcmp(mode, "halfclose")) return echo(n, false, true);
    if (!strcmp(mode, "reset")) return reset(n);
    if (!strcmp(mode, "hold")) return hold((int)n, argc > 4 ? atoi(argv[4]) : 1);
    fprintf(stderr, "peer: unknown mode %s\n", mode);
    return 2;
}
