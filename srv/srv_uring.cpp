// srv_uring: timestamp echo server on io_uring, through the raw system calls. It
// posts the work (accept, recv, send) and reaps what finished, batched into one
// io_uring_enter a round. One multishot accept yields every connection; a multishot
// recv per connection fills buffers the kernel takes from a ring shared with us
// (provided buffers; an idle connection holds none), a bundle of them a completion
// from Linux 6.15. The echo is sent, gathered, from those buffers, which then go
// back. Before 6.1 (or SRV_URING_PLAIN): single-shot accept, a buffer per connection.
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/echo.h"
#include "../common/net.h"
#include "../common/server.h"
#include "../common/uring.h"
#include "../common/util.h"
#include "../common/workers.h"

namespace {

constexpr unsigned kSqEntries = 4096, kCqEntries = 32768;
// Provided buffers, 16 MiB. 16 KiB each: a 64 KiB request fills 4, not 16 of a
// page (1.16 against 1.22 times srv_epoll's CPU a MiB), and a 64-byte one touches
// one page of its buffer, so RSS falls (7 MiB against 19 at 1,000 connections).
constexpr unsigned kBufCount = 1024, kBufSize = 16384, kPlainBuf = 2048;
constexpr uint32_t kHeldCap = 64 * 1024;  // unsent bytes per connection before recv pauses
const __kernel_timespec kScan = {0, kIdleScanMs * 1000000LL};  // -t: a timeout drives the scan

enum Op : uint8_t { OP_ACCEPT = 1, OP_RECV, OP_SEND, OP_TICK, OP_SIGNAL, OP_CANCEL, OP_LISTEN };
static_assert(OP_LISTEN <= kUringTagMaxOp && kUringSendBufs <= kUringTagMaxBufs, "user_data has room");

struct Conn {
    uint32_t held;            // bytes received, not yet echoed
    uint32_t send_off;        // bytes of the head buffer already sent
    uint32_t last_active;     // ms since start (ms_since), for -t
    UringBufQueue q;          // received buffers in order (multishot)
    uint16_t gen;             // tells a closed connection's late completions from its successor's
    uint8_t send_bufs;        // buffers the send in flight covers
    bool open, recv_armed, sending, paused, peer_done, starved;
};

ServerConfig cfg;
constexpr Counter C_BUFS_IN_USE = C_OWN;  // its own: provided buffers not back at the stop
ServerStats st;
Uring ring;
Conn *conns;
long max_fds;
int max_open_fd = -1;
int listen_fd, reserve_fd, sig_fd;
uint32_t now_ms;
uint64_t start_ns;
// io_uring's accept takes a descriptor before it looks for a connection: out of
// them it fails at once, and re-armed would spin. It waits for a close instead, and
// meanwhile polls the listener to refuse newcomers (as an edge-triggered epoll would).
bool accept_paused, listen_polled;

UringBufs pbufs;          // multishot: kBufCount slices of kBufSize
UringSendMsg *send_msgs;  // multishot: a connection's send in flight
char *plain_bufs;         // fallback: kPlainBuf per descriptor (both mapped, untouched if unused)
int *starved;             // connections whose recv ended for want of buffers
int n_starved;

uint64_t ud(Op op, int fd, uint16_t gen, uint16_t bid = kUringNoBuf, unsigned nbufs = 0) {
    return uring_tag({op, (uint8_t)nbufs, gen, bid, (uint32_t)fd});
}

// What the modes do differently, chosen once: multishot recv into provided buffers
// (Linux 6.1), bundled where a completion's size can be capped (6.15), or the
// fallback. The rest is one path: buffers a completion brings are queued, then go back.
struct Mode {
    const char *strategy;
    uint16_t accept_ioprio, recv_ioprio;
    uint32_t recv_len;   // provided buffers: most bytes a completion brings (0: one buffer)
    uint32_t resume_at;  // a paused recv is re-armed once held bytes are down to this
    void (*prep_recv)(io_uring_sqe *s, int fd);
    void (*send)(int fd, Conn &c);
};
const Mode *mode;
void recv_lent(io_uring_sqe *s, int) {
    s->ioprio = mode->recv_ioprio;
    s->len = mode->recv_len;
    s->flags = IOSQE_BUFFER_SELECT;
}
// The queued buffers, gathered (for one buffer no dearer than a send: 3.2 us either way).
void send_lent(int fd, Conn &c) {
    unsigned n;
    io_uring_sqe *s = uring_prep_send_bufs(&ring, fd, pbufs, c.q, c.send_off, &send_msgs[fd], &n);
    s->user_data = ud(OP_SEND, fd, c.gen, c.q.head, n);
    c.send_bufs = (uint8_t)n;
}
const Mode kPlain = {
    "io_uring (single-shot accept, recv per connection)", 0, 0, 0, 0,
    [](io_uring_sqe *s, int fd) { uring_sqe_buf(s, plain_bufs + (size_t)fd * kPlainBuf, kPlainBuf); },
    [](int fd, Conn &c) {
        io_uring_sqe *s = uring_prep(&ring, IORING_OP_SEND, fd, ud(OP_SEND, fd, c.gen));
        uring_sqe_buf(s, plain_bufs + (size_t)fd * kPlainBuf + c.send_off, c.held)->msg_flags = MSG_NOSIGNAL;
    },
};
const Mode kMultishot = {"io_uring (multishot accept and recv, provided buffers)", IORING_ACCEPT_MULTISHOT,
                         IORING_RECV_MULTISHOT, 0, kHeldCap / 2, recv_lent, send_lent};
// 64 KiB in 1 or 2 completions, not 32 tcp_recvmsg calls; capped, lest a flood drain the ring.
const Mode kBundled = {"io_uring (multishot accept and bundled recv, provided buffers)",
                       IORING_ACCEPT_MULTISHOT, IORING_RECV_MULTISHOT | IORING_RECVSEND_BUNDLE,
                       kHeldCap, kHeldCap / 2, recv_lent, send_lent};

// A ring and the best of the modes up to `want` that it offers.
const Mode *ring_setup(const Mode *want) {
    if (!uring_setup(&ring, kSqEntries, kCqEntries) || want == &kPlain ||
        !uring_bufs_setup(&ring, &pbufs, kBufCount, kBufSize))
        return &kPlain;
    return want == &kBundled && (ring.features & IORING_FEAT_NO_IOWAIT) ? &kBundled : &kMultishot;
}

void arm_accept() {
    io_uring_sqe *s = uring_prep(&ring, IORING_OP_ACCEPT, listen_fd, ud(OP_ACCEPT, listen_fd, 0));
    s->accept_flags = SOCK_CLOEXEC;  // blocking: io_uring would hand EAGAIN back to us
    s->ioprio = mode->accept_ioprio;
    accept_paused = false;
}

void arm_listen_poll() {
    if (!listen_polled) uring_prep_poll_in(&ring, listen_fd, ud(OP_LISTEN, listen_fd, 0));
    listen_polled = true;
}

void arm_recv(int fd, Conn &c) {
    mode->prep_recv(uring_prep(&ring, IORING_OP_RECV, fd, ud(OP_RECV, fd, c.gen)), fd);
    c.recv_armed = true;
    c.paused = false;
}

// Re-arms the recv once the echo has caught up: that is the backpressure.
void maybe_recv(int fd, Conn &c) {
    if (!c.recv_armed && !c.peer_done && !c.starved && c.held <= mode->resume_at) arm_recv(fd, c);
}

// One send per connection at a time, so echoes cannot overtake each other.
void send_head(int fd, Conn &c) {
    mode->send(fd, c);
    c.sending = true;
}

void close_conn(int fd) {
    Conn &c = conns[fd];
    // A posted recv or send holds its own reference to the socket, so close() alone
    // would neither end them nor send FIN; shutdown() wakes both, and they complete.
    if (c.recv_armed || c.sending) shutdown(fd, SHUT_RDWR);
    close_fd(fd);
    // Queued buffers go back now; those being sent, when their send completes.
    uring_bufq_give_after(&pbufs, &c.q, c.sending ? c.send_bufs : 0);
    // The next connection on fd: a new generation; still in the starved list if this was.
    c = Conn{0, 0, 0, {}, (uint16_t)(c.gen + 1), 0, false, false, false, false, false, c.starved};
    st.open--;
    if (accept_paused) arm_accept();
}

void on_accept(int res, uint32_t flags) {
    if (res == -EMFILE || res == -ENFILE) accept_paused = true;
    else if (!(flags & IORING_CQE_F_MORE)) arm_accept();
    if (res < 0) {
        if (server_accept_failed(-res, listen_fd, &reserve_fd, &st)) arm_listen_poll();
        return;
    }
    if (!server_admit(res, max_fds, &st)) return;
    Conn &c = conns[res];
    c.open = true;
    c.last_active = now_ms;
    c.q.head = c.q.tail = kUringNoBuf;
    if (res > max_open_fd) max_open_fd = res;
    st.opened();
    arm_recv(res, c);
}

void on_recv(int fd, Conn &c, int res, uint32_t flags) {
    if (!(flags & IORING_CQE_F_MORE)) c.recv_armed = false;
    if (res > 0) {
        if (cfg.idle_s) c.last_active = now_ms;
        c.held += (uint32_t)res;
        if (c.held >= kHeldCap && c.recv_armed && !c.paused) {  // so slow a reader gets no more
            uring_prep_cancel(&ring, ud(OP_RECV, fd, c.gen), ud(OP_CANCEL, fd, c.gen));
            c.paused = true;
        }
        if (!c.sending) send_head(fd, c);
        maybe_recv(fd, c);
    } else if (res == 0) {  // EOF: echo what is held, then close
        c.peer_done = true;
        if (!c.held) close_conn(fd);
    } else if (res == -ENOBUFS) {  // the ring ran dry; re-armed once buffers come back
        if (!c.starved) starved[n_starved++] = fd;
        c.starved = true;
    } else if (res == -ECANCELED || res == -EINTR || res == -EAGAIN) {
        maybe_recv(fd, c);
    } else {
        count_io_error(&st, -res);
        close_conn(fd);
    }
}

void on_send(int fd, Conn &c, int res) {
    c.sending = false;
    if (res <= 0) {
        count_io_error(&st, res ? -res : EIO);
        close_conn(fd);
        return;
    }
    st.n[C_BYTES_ECHOED] += (uint64_t)res;
    c.held -= (uint32_t)res;
    c.send_off += (uint32_t)res;
    uring_bufq_give_sent(&pbufs, &c.q, &c.send_off);
    if (!c.held) c.send_off = 0;
    if (c.held) send_head(fd, c);  // a short send resumes where it stopped
    else if (c.peer_done) close_conn(fd);
    else maybe_recv(fd, c);
}

void handle(const io_uring_cqe &cqe) {
    UringTag t = uring_untag(cqe.user_data);
    Conn &c = conns[t.fd];
    bool live = c.open && c.gen == t.gen;
    UringBufQueue lost = {kUringNoBuf, kUringNoBuf};
    // What a recv brought joins its connection's queue, or the lost one if it closed.
    uring_bufq_take(&pbufs, live ? &c.q : &lost, cqe.flags, cqe.res);
    switch (t.op) {
    case OP_ACCEPT: on_accept(cqe.res, cqe.flags); break;
    case OP_RECV:
    case OP_SEND:
        if (!live) {  // late news of a closed connection: its buffers go back
            uring_bufq_give_after(&pbufs, &lost, 0);
            uring_buf_give_chain(&pbufs, t.bid, t.nbufs);
        } else if (t.op == OP_RECV) {
            on_recv((int)t.fd, c, cqe.res, cqe.flags);
        } else {
            on_send((int)t.fd, c, cqe.res);
        }
        break;
    case OP_TICK:
        close_idle_conns(conns, max_open_fd, now_ms, cfg.idle_s, &st, close_conn);
        uring_prep_timeout(&ring, &kScan, ud(OP_TICK, 0, 0));
        break;
    case OP_SIGNAL: g_stop = 1; break;
    case OP_LISTEN:  // a connection waits while descriptors are out: refuse it
        listen_polled = false;
        if (accept_paused) {
            st.n[C_REFUSED_NOFD] += (uint64_t)emfile_refuse(listen_fd, &reserve_fd);
            arm_listen_poll();
        }
        break;
    default: break;  // failed cancels: the recv had already ended
    }
}

// One ring and its loop, in this process, until SIGINT or SIGTERM.
void serve(int lfd) {
    if (cfg.workers > 0) {  // a -w worker: the ring it inherited is its parent's
        close(ring.fd);
        mode = ring_setup(mode);
    }
    listen_fd = lfd;
    plain_bufs = (char *)uring_map((size_t)max_fds * kPlainBuf, -1, 0);
    send_msgs = per_fd_array<UringSendMsg>(max_fds);
    reserve_fd = reserve_fd_open();
    sig_fd = uring_stop_signalfd();
    conns = per_fd_array<Conn>(max_fds);
    starved = per_fd_array<int>(max_fds);

    start_ns = mono_ns();
    // The stop signals stay blocked; the signalfd turns them into a completion.
    uring_prep_poll_in(&ring, sig_fd, ud(OP_SIGNAL, sig_fd, 0));
    arm_accept();
    if (cfg.idle_s) uring_prep_timeout(&ring, &kScan, ud(OP_TICK, 0, 0));
    while (!g_stop) {
        uring_bufs_publish(&pbufs);
        uring_submit_wait(&ring, 1);
        if (cfg.idle_s) now_ms = ms_since(start_ns);  // for what this batch brings
        uring_reap(&ring, handle);
        // Starved connections get their recv back, as many as there are free buffers.
        for (unsigned budget = pbufs.n_free; n_starved > 0 && budget > 0; budget--) {
            int fd = starved[--n_starved];
            conns[fd].starved = false;
            if (conns[fd].open) maybe_recv(fd, conns[fd]);
        }
    }
    for (int fd = 0; fd <= max_open_fd; fd++)
        if (conns[fd].open) close_conn(fd);
    st.n[C_BUFS_IN_USE] = pbufs.count - pbufs.n_free;  // a leak shows here: 0 with none open
}

}  // namespace

int main(int argc, char **argv) {
    sigset_t wait_mask;
    max_fds = server_init(argc, argv, C10K_PROG, &cfg, &wait_mask);
    cfg.own_counter[0] = "bufs_in_use";
    // The mode the kernel offers, for the start line (a -w worker sets up its own ring).
    mode = ring_setup(getenv("SRV_URING_PLAIN") ? &kPlain
                      : getenv("SRV_URING_NO_BUNDLE") ? &kMultishot : &kBundled);
    return serve_main(&cfg, mode->strategy, server_capacity(cfg, max_fds, 4), serve, &st);
}
