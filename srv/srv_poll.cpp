// srv_poll: timestamp echo server on one level-triggered poll() loop.
//
// The pollfd array is compact: slot 0 is the listener, every open connection has
// one slot, and a closed connection's slot is filled by moving the last one into it
// (libev's ev_poll.c). So each call costs O(open connections), not O(highest
// descriptor). conns[fd].slot maps a descriptor back to its pollfd.
//
// Level-triggered, so each handler does one read per wakeup (the next poll reports
// what is left); the interest mask says what to wait for: POLLIN while the
// connection can take more, POLLOUT while an echo is unsent.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/echo.h"
#include "../common/net.h"
#include "../common/server.h"
#include "../common/util.h"
#include "../common/workers.h"

namespace {

struct Conn : EchoConn {
    int slot;  // index in pfds
};

ServerConfig cfg;
ServerStats st;
Conn *conns;
pollfd *pfds;             // pfds[0] is the listener
nfds_t npfds;
long max_fds;
int listen_fd, reserve_fd;
uint32_t now_ms;
char io_buf[64 * 1024];
sigset_t wait_mask;  // the stop signals unblocked, for the wait


// What to wait for: more input while the echo queue has room and the peer has not
// finished, output while bytes are queued. No POLLIN on a full queue is backpressure.
short interest(const Conn &c) {
    short ev = 0;
    if (echo_wants_input(c)) ev |= POLLIN;
    if (c.pend.len) ev |= POLLOUT;
    return ev;
}

void close_conn(int fd) {
    Conn &c = conns[fd];
    int slot = c.slot;
    pending_free(&c.pend);
    c = Conn{};
    close_fd(fd);
    st.open--;
    // Swap-remove: the last pollfd, revents included, moves into the hole.
    npfds--;
    if ((nfds_t)slot != npfds) {
        pfds[slot] = pfds[npfds];
        conns[pfds[slot].fd].slot = slot;
    }
}

void accept_all() {
    for (;;) {
        int fd = server_accept(listen_fd, &reserve_fd, max_fds, &st);
        if (fd < 0) return;
        Conn &c = conns[fd];
        c.open = true;
        c.last_active = now_ms;
        c.slot = (int)npfds;
        pfds[npfds++] = pollfd{fd, POLLIN, 0};  // revents 0: not looked at this round
        st.opened();
    }
}

void close_idle() {
    for (nfds_t i = 1; i < npfds;) {
        int fd = pfds[i].fd;
        if (idle_expired(conns[fd], now_ms, cfg.idle_s)) {
            close_conn(fd);  // slot i now holds another connection: look at it too
            st.n[C_IDLE_CLOSED]++;
        } else {
            i++;
        }
    }
}

// One event loop on lfd until SIGINT/SIGTERM; counts into st.
void serve(int lfd) {
    listen_fd = lfd;
    reserve_fd = reserve_fd_open();
    conns = per_fd_array<Conn>(max_fds);
    pfds = per_fd_array<pollfd>(max_fds + 1);
    pfds[0] = pollfd{listen_fd, POLLIN, 0};
    npfds = 1;

    uint64_t start = mono_ns();
    uint32_t last_scan_ms = 0;
    timespec tick = {0, kIdleScanMs * 1000000L};
    while (!stop_requested()) {
        int ready = ppoll(pfds, npfds, cfg.idle_s ? &tick : nullptr, &wait_mask);
        if (ready < 0) {
            if (errno == EINTR) continue;
            die_errno(EXIT_RUNTIME, "poll");
        }
        if (cfg.idle_s) now_ms = ms_since(start);
        bool listener_ready = pfds[0].revents != 0;
        if (listener_ready) ready--;
        // Stop once poll's count is used up. A closed connection's slot is refilled
        // from the end, with its revents, so the same index is looked at again.
        for (nfds_t i = 1; i < npfds && ready > 0;) {
            short re = pfds[i].revents;
            if (!re) {
                i++;
                continue;
            }
            ready--;
            pfds[i].revents = 0;
            int fd = pfds[i].fd;
            Conn &c = conns[fd];
            bool alive = true;
            // ERR and HUP count as both, so the normal path meets the error.
            if (c.pend.len && (re & (POLLOUT | POLLERR | POLLHUP)))
                alive = echo_write_queued(fd, &c, &st);
            if (alive && !c.peer_done && (re & (POLLIN | POLLERR | POLLHUP)))
                alive = echo_read_once(fd, &c, io_buf, sizeof io_buf, now_ms, &st);
            if (alive) {
                pfds[i].events = interest(c);
                i++;
            } else {
                close_conn(fd);  // slot i now holds another connection: look at it too
            }
        }
        // Accept after the scan, so new slots at the end carry no stale revents.
        if (listener_ready) accept_all();
        if (cfg.idle_s && now_ms - last_scan_ms >= kIdleScanMs) {
            last_scan_ms = now_ms;
            close_idle();
        }
    }
    while (npfds > 1) close_conn(pfds[npfds - 1].fd);
}

}  // namespace

int main(int argc, char **argv) {
    max_fds = server_init(argc, argv, C10K_PROG, &cfg, &wait_mask);
    return serve_main(&cfg, "poll (compact pollfd array)", server_capacity(cfg, max_fds, 2), serve, &st);
}
