// srv_select: timestamp echo server on one level-triggered select() loop.
//
// An fd_set holds descriptors below FD_SETSIZE (1024) only: FD_SET on a larger one
// writes past the set (glibc's fortify aborts). select(2) itself takes any nfds up
// to the descriptor limit, so, like libev's ev_select.c, this loop keeps its own
// arrays of fd_mask words, grown as descriptors climb, hands select() the number of
// bits in use, and never calls FD_SET. The price is select's: every call copies and
// scans bitmaps up to the highest descriptor, open or not.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/select.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/echo.h"
#include "../common/net.h"
#include "../common/server.h"
#include "../common/util.h"
#include "../common/workers.h"

namespace {

constexpr int kBits = 8 * (int)sizeof(fd_mask);

struct Conn {
    Pending pend;         // unsent echo
    uint32_t last_active; // ms since start, for -t
    bool open, peer_done;
};

ServerConfig cfg;
ServerStats st;
Conn *conns;
long max_fds;
int max_open_fd = -1;     // highest descriptor select() must look at
int listen_fd, reserve_fd;
uint32_t now_ms;
char io_buf[64 * 1024];
sigset_t wait_mask;  // the stop signals unblocked, for the wait

// Interest sets, and the copies select() overwrites; `words` fd_mask words each.
fd_mask *want_rd, *want_wr, *got_rd, *got_wr;
int words;


void grow_masks(int fd) {
    int need = fd / kBits + 1;
    if (need <= words) return;
    int n = words ? words : 16;
    while (n < need) n *= 2;
    fd_mask **sets[] = {&want_rd, &want_wr, &got_rd, &got_wr};
    for (fd_mask **s : sets) {
        auto *p = (fd_mask *)realloc(*s, (size_t)n * sizeof(fd_mask));
        if (!p) die(EXIT_RUNTIME, "cannot grow descriptor sets to %d words", n);
        memset(p + words, 0, (size_t)(n - words) * sizeof(fd_mask));
        *s = p;
    }
    words = n;
}

void set_bit(fd_mask *m, int fd, bool on) {
    fd_mask bit = (fd_mask)1 << (fd % kBits);
    if (on)
        m[fd / kBits] |= bit;
    else
        m[fd / kBits] &= ~bit;
}

// Read while the echo queue has room and the peer has not finished (no read on a
// full queue is backpressure); write while bytes are queued.
void update_interest(int fd, const Conn &c) {
    set_bit(want_rd, fd, !c.peer_done && c.pend.len < kPendCap);
    set_bit(want_wr, fd, c.pend.len != 0);
}

void close_conn(int fd) {
    Conn &c = conns[fd];
    pending_free(&c.pend);
    c = Conn{};
    close_fd(fd);
    set_bit(want_rd, fd, false);
    set_bit(want_wr, fd, false);
    st.open--;
    while (max_open_fd > listen_fd && !conns[max_open_fd].open) max_open_fd--;
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
        grow_masks(fd);
        conns[fd].open = true;
        conns[fd].last_active = now_ms;
        set_bit(want_rd, fd, true);
        if (fd > max_open_fd) max_open_fd = fd;
        st.opened();
    }
}

void close_idle() {
    for (int fd = max_open_fd; fd > listen_fd; fd--) {
        if (conns[fd].open && now_ms - conns[fd].last_active >= (uint32_t)cfg.idle_s * 1000u) {
            close_conn(fd);
            st.n[C_IDLE_CLOSED]++;
        }
    }
}

// One event loop on lfd until SIGINT/SIGTERM; counts into st.
void serve(int lfd) {
    listen_fd = lfd;
    reserve_fd = reserve_fd_open();
    // calloc: pages of the array are touched only as descriptors reach them.
    conns = (Conn *)calloc((size_t)max_fds, sizeof *conns);
    if (!conns) die(EXIT_RUNTIME, "cannot allocate state for %ld descriptors", max_fds);
    grow_masks(listen_fd);
    max_open_fd = listen_fd;

    uint64_t start = mono_ns();
    uint32_t last_scan_ms = 0;
    timespec tick = {0, kIdleScanMs * 1000000L};
    while (!stop_requested()) {
        // Only the words covering descriptors up to max_open_fd are copied and read.
        int nfds = max_open_fd + 1;
        int nw = max_open_fd / kBits + 1;
        memcpy(got_rd, want_rd, (size_t)nw * sizeof(fd_mask));
        memcpy(got_wr, want_wr, (size_t)nw * sizeof(fd_mask));
        set_bit(got_rd, listen_fd, true);
        int ready = pselect(nfds, (fd_set *)got_rd, (fd_set *)got_wr, nullptr,
                            cfg.idle_s ? &tick : nullptr, &wait_mask);
        if (ready < 0) {
            if (errno == EINTR) continue;
            die_errno(EXIT_RUNTIME, "select");
        }
        if (cfg.idle_s) now_ms = ms_since(start);
        bool listener_ready = got_rd[listen_fd / kBits] & ((fd_mask)1 << (listen_fd % kBits));
        set_bit(got_rd, listen_fd, false);
        // Walk the words, a set bit at a time; closing a descriptor only clears
        // interest bits, so what is left in got_* still names this round's events.
        for (int w = 0; w < nw; w++) {
            // Unsigned: fd_mask is a signed long, and bits - 1 with only the top bit
            // set (descriptor 63 of the word) would overflow.
            unsigned long bits = (unsigned long)(got_rd[w] | got_wr[w]);
            while (bits) {
                int b = __builtin_ctzl(bits);
                bits &= bits - 1;
                int fd = w * kBits + b;
                fd_mask bit = (fd_mask)1 << b;
                Conn &c = conns[fd];
                if (!c.open) continue;
                bool alive = true;
                if (c.pend.len && (got_wr[w] & bit)) alive = on_writable(fd, c);
                if (alive && !c.peer_done && (got_rd[w] & bit)) alive = on_readable(fd, c);
                if (alive) update_interest(fd, c);
            }
        }
        // Accept after the scan, so a new descriptor never meets a stale bit.
        if (listener_ready) accept_all();
        if (cfg.idle_s && now_ms - last_scan_ms >= kIdleScanMs) {
            last_scan_ms = now_ms;
            close_idle();
        }
    }
    for (int fd = max_open_fd; fd > listen_fd; fd--)
        if (conns[fd].open) close_conn(fd);
}

}  // namespace

int main(int argc, char **argv) {
    g_prog = "srv_select";
    server_parse_args(argc, argv, &cfg, true);
    max_fds = raise_fd_limit();
    setup_signals(&wait_mask);
    return serve_main(&cfg, "select (growing fd_mask arrays, past FD_SETSIZE)", max_fds - 6, serve, &st);
}
