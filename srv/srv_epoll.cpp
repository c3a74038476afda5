// srv_epoll: timestamp echo server on one edge-triggered epoll loop.
//
// Each connection is added once with IN|OUT|RDHUP|ET and never modified (as nginx
// does), so every handler runs until the kernel says EAGAIN, or until a short read
// proves the receive queue empty. Per-connection state is a flat array indexed by
// fd; a connection owns a buffer only while a write to it has come up short.
// recv/send rather than read/write: they skip the VFS layer (fdget_pos, vfs_read),
// about 4% of the server's CPU per echo in a profile.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/epoll.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/echo.h"
#include "../common/net.h"
#include "../common/server.h"
#include "../common/util.h"
#include "../common/workers.h"

namespace {

constexpr int kMaxEvents = 1024;

struct Conn : EchoConn {
    bool paused;  // the queue is full: reading waits for it to drain
};

ServerConfig cfg;
ServerStats st;
Conn *conns;
long max_fds;
int max_open_fd = -1;
int ep_fd, listen_fd, reserve_fd;
// Out of descriptors with no spare to refuse with: connections wait in the backlog
// and the edge-triggered listener will not report them again. This is how many
// connections were open then; once fewer are, accept again.
uint64_t starved_at_open;
sigset_t wait_mask;  // the stop signals unblocked, for epoll_pwait
uint32_t now_ms;
char io_buf[64 * 1024];


void close_conn(int fd) {
    Conn &c = conns[fd];
    pending_free(&c.pend);
    c = Conn{};
    close_fd(fd);
    st.open--;
}

void on_readable(int fd, Conn &c, bool rdhup) {
    while (!c.paused) {
        // With bytes queued, read only what the queue can take: that is backpressure.
        size_t room = pending_room(c.pend, sizeof io_buf);
        ssize_t n = recv_echo(fd, &c.pend, io_buf, room, &st);
        if (n > 0) {
            c.last_active = now_ms;
            if (c.pend.len >= kPendCap) c.paused = true;
            if ((size_t)n == room) continue;
            // A short read emptied the queue. If the peer had already sent FIN when
            // the event was raised, everything before it is now read: skip the
            // read that would only return 0.
            if (!rdhup) return;
            n = 0;
        }
        if (n == 0) {
            c.peer_done = true;
            if (!c.pend.len) close_conn(fd);
            return;
        }
        if (errno == EAGAIN) return;
        if (errno == EINTR) continue;
        close_conn(fd);  // counted by recv_echo
        return;
    }
}

void on_writable(int fd, Conn &c) {
    if (!pending_flush(fd, &c.pend, &st)) {
        close_conn(fd);
        return;
    }
    if (c.pend.len) return;
    if (c.peer_done) {
        close_conn(fd);
    } else if (c.paused) {
        // Bytes left unread while paused raise no new edge: read them now.
        c.paused = false;
        on_readable(fd, c, false);
    }
}

void accept_all() {
    for (;;) {
        int fd = server_accept(listen_fd, &reserve_fd, max_fds, &st);
        if (fd < 0) {
            // Without the spare, retry once a connection closes (see the loop).
            if ((errno == EMFILE || errno == ENFILE) && reserve_fd < 0) starved_at_open = st.open;
            return;
        }
        epoll_event ev = {};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.fd = fd;
        if (epoll_ctl(ep_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            st.n[C_ACCEPT_ERROR]++;
            close_fd(fd);
            continue;
        }
        conns[fd].open = true;
        conns[fd].last_active = now_ms;
        if (fd > max_open_fd) max_open_fd = fd;
        st.opened();
    }
}


// One event loop on listen_fd until SIGINT/SIGTERM; counts into st.
void serve(int lfd) {
    listen_fd = lfd;
    reserve_fd = reserve_fd_open();
    ep_fd = epoll_create1(EPOLL_CLOEXEC);
    if (ep_fd < 0) die_errno(EXIT_RUNTIME, "epoll_create1");
    conns = per_fd_array<Conn>(max_fds);
    epoll_event lev = {};
    lev.events = EPOLLIN | EPOLLET;
    lev.data.fd = listen_fd;
    if (epoll_ctl(ep_fd, EPOLL_CTL_ADD, listen_fd, &lev) != 0) die_errno(EXIT_RUNTIME, "epoll_ctl");

    uint64_t start = mono_ns();
    uint32_t last_scan_ms = 0;
    static epoll_event events[kMaxEvents];
    while (!stop_requested()) {
        int n = epoll_pwait(ep_fd, events, kMaxEvents, cfg.idle_s ? (int)kIdleScanMs : -1, &wait_mask);
        if (n < 0) {
            if (errno == EINTR) continue;
            die_errno(EXIT_RUNTIME, "epoll_wait");
        }
        if (cfg.idle_s) now_ms = ms_since(start);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            uint32_t e = events[i].events;
            if (fd == listen_fd) {
                accept_all();
                continue;
            }
            Conn &c = conns[fd];
            if (c.open && c.pend.len && (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))) on_writable(fd, c);
            if (c.open && (e & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)))
                on_readable(fd, c, e & EPOLLRDHUP);
        }
        if (cfg.idle_s && now_ms - last_scan_ms >= kIdleScanMs) {
            last_scan_ms = now_ms;
            close_idle_conns(conns, max_open_fd, now_ms, cfg.idle_s, &st, close_conn);
        }
        if (starved_at_open && st.open < starved_at_open) {
            starved_at_open = 0;
            if (reserve_fd < 0) reserve_fd = reserve_fd_open();
            accept_all();
        }
    }
    for (int fd = 0; fd <= max_open_fd; fd++)
        if (conns[fd].open) close_conn(fd);
}

}  // namespace

int main(int argc, char **argv) {
    max_fds = server_init(argc, argv, C10K_PROG, &cfg, &wait_mask);
    return serve_main(&cfg, "epoll (edge-triggered)", server_capacity(cfg, max_fds, 3), serve, &st);
}
