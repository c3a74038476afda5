#include "echo.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "clock.h"
#include "net.h"

bool echo(int fd, Pending *p, const char *data, size_t n, ServerStats *st) {
    size_t sent = 0;
    if (!p->len) {
        ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            count_io_error(st, errno);
            return false;
        }
        if (w > 0) sent = (size_t)w;
        st->n[C_BYTES_ECHOED] += sent;
        if (sent == n) return true;
    }
    if (!p->buf) {
        p->buf = (char *)malloc(kPendCap);
        if (!p->buf) {
            st->n[C_NOMEM]++;
            return false;
        }
    } else if (p->off + p->len + (n - sent) > kPendCap) {
        memmove(p->buf, p->buf + p->off, p->len);
        p->off = 0;
    }
    memcpy(p->buf + p->off + p->len, data + sent, n - sent);
    p->len += (uint32_t)(n - sent);
    return true;
}

ssize_t recv_echo(int fd, Pending *p, char *buf, size_t room, ServerStats *st) {
    ssize_t n = recv(fd, buf, room, 0);
    if (n < 0 && errno != EAGAIN && errno != EINTR) count_io_error(st, errno);
    // echo() fails only with its send's errno or malloc's ENOMEM: never "try again".
    if (n > 0 && !echo(fd, p, buf, (size_t)n, st)) return -1;
    return n;
}

bool pending_flush(int fd, Pending *p, ServerStats *st) {
    while (p->len > 0) {
        ssize_t n = send(fd, p->buf + p->off, p->len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return true;
            count_io_error(st, errno);
            return false;
        }
        st->n[C_BYTES_ECHOED] += (uint64_t)n;
        p->off += (uint32_t)n;
        p->len -= (uint32_t)n;
    }
    pending_free(p);
    return true;
}

void pending_free(Pending *p) {
    free(p->buf);
    *p = Pending{};
}

bool echo_read_once(int fd, EchoConn *c, char *buf, size_t buf_size, uint32_t now_ms,
                    ServerStats *st) {
    ssize_t n = recv_echo(fd, &c->pend, buf, pending_room(c->pend, buf_size), st);
    if (n > 0) {
        c->last_active = now_ms;
        return true;
    }
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    c->peer_done = true;
    return c->pend.len != 0;  // finish the echo first
}

bool echo_write_queued(int fd, EchoConn *c, ServerStats *st) {
    return pending_flush(fd, &c->pend, st) && (c->pend.len || !c->peer_done);
}

void echo_blocking(int fd, int idle_s, ServerStats *st) {
    auto add = [st](Counter c, uint64_t n) { __atomic_fetch_add(&st->n[c], n, __ATOMIC_RELAXED); };
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    if (idle_s) {
        timeval tv = {idle_s, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    char buf[4096];  // one page: a process or thread per connection costs what it touches
    int err = 0;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            err = errno;
            break;
        }
        // SO_SNDTIMEO ends a send that moved a few bytes with their count, not
        // EAGAIN: a peer that never reads but lets a window update through now and
        // then would keep the echo alive for ever. One deadline covers the chunk.
        uint64_t deadline = idle_s ? mono_ns() + (uint64_t)idle_s * 1000000000u : 0;
        for (ssize_t off = 0; off < n && !err;) {
            ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
            if (w > 0) {
                add(C_BYTES_ECHOED, (uint64_t)w);
                off += w;
                if (off < n && deadline && mono_ns() >= deadline) err = EAGAIN;
            } else if (errno != EINTR) {
                err = errno;
            }
        }
        if (err) break;
    }
    if (err == EAGAIN || err == EWOULDBLOCK) add(C_IDLE_CLOSED, 1);
    else if (err) add(err == ECONNRESET || err == EPIPE || err == ETIMEDOUT ? C_RESET : C_IO_ERROR, 1);
    close_fd(fd);
}
