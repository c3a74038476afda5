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

ServerConfig cfg;
ServerStats st;
EchoConn *conns;
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
void update_interest(int fd, const EchoConn &c) {
    set_bit(want_rd, fd, echo_wants_input(c));
    set_bit(want_wr, fd, c.pend.len != 0);
}

void close_conn(int fd) {
    EchoConn &c = conns[fd];
    pending_free(&c.pend);
    c = EchoConn{};
    close_fd(fd);
    set_bit(want_rd, fd, false);
    set_bit(want_wr, fd, false);
    st.open--;
    while (max_open_fd > listen_fd && !conns[max_open_fd].open) max_open_fd--;
}

void accept_all() {
    for (;;) {
        int fd = server_accept(listen_fd, &reserve_fd, max_fds, &st);
        if (fd < 0) return;
        grow_masks(fd);
        conns[fd].open = true;
        conns[fd].last_active = now_ms;
        set_bit(want_rd, fd, true);
        if (fd > max_open_fd) max_open_fd = fd;
        st.opened();
    }
}


// One event loop on lfd until SIGINT/SIGTERM; counts into st.
void serve(int lfd) {
    listen_fd = lfd;
    reserve_fd = reserve_fd_open();
    conns = per_fd_array<EchoConn>(max_fds);
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
                EchoConn &c = conns[fd];
                if (!c.open) continue;
                bool alive = true;
                if (c.pend.len && (got_wr[w] & bit)) alive = echo_write_queued(fd, &c, &st);
                if (alive && !c.peer_done && (got_rd[w] & bit))
                    alive = echo_read_once(fd, &c, io_buf, sizeof io_buf, now_ms, &st);
                if (alive)
                    update_interest(fd, c);
                else
                    close_conn(fd);
            }
        }
        // Accept after the scan, so a new descriptor never meets a stale bit.
        if (listener_ready) accept_all();
        if (cfg.idle_s && now_ms - last_scan_ms >= kIdleScanMs) {
            last_scan_ms = now_ms;
            close_idle_conns(conns, max_open_fd, now_ms, cfg.idle_s, &st, close_conn);
        }
    }
    for (int fd = max_open_fd; fd > listen_fd; fd--)
        if (conns[fd].open) close_conn(fd);
}

}  // namespace

int main(int argc, char **argv) {
    max_fds = server_init(argc, argv, C10K_PROG, &cfg, &wait_mask);
    return serve_main(&cfg, "select (growing fd_mask arrays, past FD_SETSIZE)", server_capacity(cfg, max_fds, 2), serve, &st);
}
