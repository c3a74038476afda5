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


struct Conn {
    Pending pend;         // unsent echo
    uint32_t last_active; // ms since start, for -t
    int slot;             // index in pfds
    bool open, peer_done;
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
    if (!c.peer_done && c.pend.len < kPendCap) ev |= POLLIN;
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

// Sends what is pending; false if the connection was closed.
bool on_writable(int fd, Conn &c) {
    if (!pending_flush(fd, &c.pend, &st) || (!c.pend.len && c.peer_done)) {
        close_conn(fd);
        return false;
    }
    return true;
}

// One read, echoed at once if nothing is queued; false if the connection was closed.
bool on_readable(int fd, Conn &c) {
    ssize_t n = recv_echo(fd, &c.pend, io_buf, pending_room(c.pend, sizeof io_buf), &st);
    if (n > 0) {
        if (cfg.idle_s) c.last_active = now_ms;
        return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n == 0) c.peer_done = true;
    if (n == 0 && c.pend.len) return true;  // finish the echo first
    close_conn(fd);
    return false;
}

void accept_all() {
    for (;;) {
        int fd = server_accept(listen_fd, &reserve_fd, &st);
        if (fd < 0) return;
        if (fd >= max_fds) {  // cannot happen below RLIMIT_NOFILE; never index past conns
            st.n[C_ACCEPT_ERROR]++;
            close(fd);
            continue;
        }
        set_nodelay(fd);
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
        if (now_ms - conns[fd].last_active >= (uint32_t)cfg.idle_s * 1000u) {
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
    // calloc: pages are touched only as descriptors and slots reach them.
    conns = (Conn *)calloc((size_t)max_fds, sizeof *conns);
    pfds = (pollfd *)calloc((size_t)max_fds + 1, sizeof *pfds);
    if (!conns || !pfds) die(EXIT_RUNTIME, "cannot allocate state for %ld descriptors", max_fds);
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
            if (c.pend.len && (re & (POLLOUT | POLLERR | POLLHUP))) alive = on_writable(fd, c);
            if (alive && !c.peer_done && (re & (POLLIN | POLLERR | POLLHUP)))
                alive = on_readable(fd, c);
            if (alive) {
                pfds[i].events = interest(c);
                i++;
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
    g_prog = "srv_poll";
    server_parse_args(argc, argv, &cfg, true);
    max_fds = raise_fd_limit();
    setup_signals(&wait_mask);
    return serve_main(&cfg, "poll (compact pollfd array)", max_fds - 6, serve, &st);
}
