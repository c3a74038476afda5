#include "net.h"

#include <arpa/inet.h>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <unistd.h>

bool resolve(const char *host, int port, Endpoint *ep, char *err) {
    memset(ep, 0, sizeof *ep);
    if (strcmp(host, "localhost") == 0) host = "127.0.0.1";
    auto *in4 = (sockaddr_in *)&ep->ss;
    auto *in6 = (sockaddr_in6 *)&ep->ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        ep->len = sizeof *in4;
        return true;
    }
    const char *h = host;
    char buf[INET6_ADDRSTRLEN + 2];
    size_t hl = strlen(host);
    if (hl > 2 && hl < sizeof buf && host[0] == '[' && host[hl - 1] == ']') {
        memcpy(buf, host + 1, hl - 2);
        buf[hl - 2] = '\0';
        h = buf;
    }
    if (inet_pton(AF_INET6, h, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        ep->len = sizeof *in6;
        return true;
    }
    snprintf(err, kErrLen, "address is not a numeric IPv4 or IPv6 address: %s", host);
    return false;
}

void format_endpoint(const Endpoint &ep, char *out, size_t len) {
    char a[INET6_ADDRSTRLEN] = "?";
    if (ep.ss.ss_family == AF_INET6) {
        auto *in6 = (const sockaddr_in6 *)&ep.ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
        snprintf(out, len, "[%s]:%d", a, ntohs(in6->sin6_port));
    } else {
        auto *in4 = (const sockaddr_in *)&ep.ss;
        inet_ntop(AF_INET, &in4->sin_addr, a, sizeof a);
        snprintf(out, len, "%s:%d", a, ntohs(in4->sin_port));
    }
}

int listen_tcp(const Endpoint &ep, int backlog, bool reuseport, char *err) {
    char name[64];
    format_endpoint(ep, name, sizeof name);
    int fd = socket(ep.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, kErrLen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        int e = errno;
        snprintf(err, kErrLen, "setsockopt SO_REUSEPORT: %s", strerror(e));
        close(fd);
        errno = e;
        return -1;
    }
    if (bind(fd, (const sockaddr *)&ep.ss, ep.len) != 0) {
        int e = errno;
        snprintf(err, kErrLen, "bind %s: %s%s", name, strerror(e),
                 e == EADDRINUSE ? " (another server holds the port: stop it or pick another port)"
                 : e == EACCES   ? " (ports below 1024 need root)"
                 : e == EADDRNOTAVAIL ? " (no local interface has that address)"
                                      : "");
        close(fd);
        errno = e;
        return -1;
    }
    // The kernel silently caps the backlog at net.core.somaxconn.
    if (listen(fd, backlog) != 0) {
        int e = errno;
        snprintf(err, kErrLen, "listen %s: %s", name, strerror(e));
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int local_port(int fd) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (sockaddr *)&ss, &len) != 0) return -1;
    if (ss.ss_family == AF_INET6) return ntohs(((sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((sockaddr_in *)&ss)->sin_port);
}

int accept_nb(int lfd) {
    for (;;) {
        int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0 || errno != EINTR) return fd;
    }
}

int reserve_fd_open() { return open("/dev/null", O_RDONLY | O_CLOEXEC); }

int emfile_refuse(int lfd, int *reserve_fd) {
    if (*reserve_fd < 0) return 0;
    close(*reserve_fd);
    *reserve_fd = -1;
    // Only one descriptor is free, so this refuses one connection at a time; a
    // connection accepted by another process (or thread) meanwhile is not ours to count.
    int refused = 0;
    for (;;) {
        int fd = accept_nb(lfd);
        if (fd < 0) {
            // Drain to EAGAIN: an edge-triggered listener raises no new event for
            // connections left in the backlog.
            if (errno == ECONNABORTED || errno == EPROTO) continue;
            break;
        }
        close(fd);
        refused++;
    }
    *reserve_fd = reserve_fd_open();
    return refused;
}

int connect_nb(const Endpoint &ep, const Endpoint *src) {
    int fd = socket(ep.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (src) {
        int one = 1;
        bool port_given = src->ss.ss_family == AF_INET6
                              ? ((const sockaddr_in6 *)&src->ss)->sin6_port != 0
                              : ((const sockaddr_in *)&src->ss)->sin_port != 0;
        // A given port may still be in TIME_WAIT from an earlier run: connect() then
        // decides, by the 4-tuple, whether it can be taken back.
        if (port_given) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        else setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(fd, (const sockaddr *)&src->ss, src->len) != 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
    }
    if (connect(fd, (const sockaddr *)&ep.ss, ep.len) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void close_fd(int fd) {
    // A standard stream closed here would hand its number to the next socket, and
    // printf's output to a peer (libuv's uv__close asserts the same).
    assert(fd > 2);
    close(fd);
}

int parse_sources(const char *spec, Endpoint *out, int max, char *err) {
    char buf[512];
    if (strlen(spec) >= sizeof buf) {
        snprintf(err, kErrLen, "source address list is too long");
        return -1;
    }
    strcpy(buf, spec);
    const char *dash = strchr(buf, '-');
    if (dash && !strchr(buf, ',')) {
        buf[dash - buf] = '\0';
        in_addr a, b;
        if (inet_pton(AF_INET, buf, &a) != 1 || inet_pton(AF_INET, dash + 1, &b) != 1) {
            snprintf(err, kErrLen, "source range is not two IPv4 addresses: %s", spec);
            return -1;
        }
        uint32_t lo = ntohl(a.s_addr), hi = ntohl(b.s_addr);
        if (hi < lo || hi - lo >= (uint32_t)max) {
            snprintf(err, kErrLen, "source range %s must ascend and hold at most %d addresses", spec, max);
            return -1;
        }
        for (uint32_t v = lo; v <= hi; v++) {
            Endpoint &e = out[v - lo];
            memset(&e, 0, sizeof e);
            auto *in4 = (sockaddr_in *)&e.ss;
            in4->sin_family = AF_INET;
            in4->sin_addr.s_addr = htonl(v);
            e.len = sizeof *in4;
        }
        return (int)(hi - lo + 1);
    }
    int n = 0;
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(nullptr, ",", &save)) {
        if (n == max) {
            snprintf(err, kErrLen, "more than %d source addresses", max);
            return -1;
        }
        if (!resolve(tok, 0, &out[n], err)) return -1;
        n++;
    }
    if (n == 0) snprintf(err, kErrLen, "no source address in: %s", spec);
    return n ? n : -1;
}
