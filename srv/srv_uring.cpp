// srv_uring: timestamp echo server on io_uring, through the raw system calls.
// Completion-based: instead of asking which sockets are ready, the server posts the
// work (accept, recv, send) and reaps what finished, all of it batched into one
// io_uring_enter per round. One multishot accept yields every connection; one
// multishot recv per connection keeps delivering into buffers the kernel takes from
// a ring shared with us (provided buffers), so an idle connection holds no buffer.
// The echo is sent from the buffers the data arrived in, several in one sendmsg,
// and they go back to the ring when the send completes. Before Linux 6.1 (or with
// SRV_URING_PLAIN set) it falls back to single-shot accept and a plain recv into a
// buffer per connection.
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <poll.h>
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
constexpr unsigned kBufCount = 8192, kBufSize = 2048;  // provided buffers: 16 MiB
constexpr uint32_t kHeldCap = 64 * 1024;  // unsent bytes per connection before recv pauses
// Buffers gathered into one send: a 64 KiB request goes back in 2 sends, not 32 of
// one buffer each (each a completion and a trip through TCP: 6.5 times epoll's CPU
// per MiB). Fits the 5 bits user_data keeps for it.
constexpr unsigned kSendBufs = 16;

enum Op : uint8_t { OP_ACCEPT = 1, OP_RECV, OP_SEND, OP_TICK, OP_SIGNAL, OP_CANCEL, OP_LISTEN };
static_assert(OP_LISTEN < 8 && kSendBufs < 32, "user_data keeps 3 bits of op, 5 of buffers");

struct Conn {
    uint32_t held;            // bytes received, not yet echoed
    uint32_t send_off;        // bytes of the head buffer already sent
    uint32_t last_active;     // ms since start (ms_since), for -t
    UringBufQueue q;          // received buffers in order
    uint16_t gen;             // tells a closed connection's late completions from its successor's
    uint8_t send_bufs;        // buffers the send in flight covers (multishot)
    bool open, recv_armed, sending, paused, peer_done, starved;
};

ServerConfig cfg;
ServerStats st;
Uring ring;
Conn *conns;
long max_fds;
int max_open_fd = -1;
int listen_fd, reserve_fd, sig_fd;
pid_t ring_pid;  // the process that set up `ring`
uint32_t now_ms;
uint64_t start_ns;
bool multishot;  // multishot accept and recv with provided buffers, or the fallback
// io_uring's accept takes a descriptor before it looks for a connection, so out of
// descriptors it fails at once, pending connection or not: re-armed, it would spin.
// It waits instead until a connection closes, and meanwhile polls the listener to
// refuse newcomers as they come (as an edge-triggered epoll loop would).
bool accept_paused, listen_polled;

UringBufs pbufs;  // multishot: kBufCount slices of kBufSize
char *plain_bufs;  // fallback: kBufSize per descriptor
// A connection's send in flight, when it gathers buffers: the kernel reads it at
// submission (IORING_FEAT_SUBMIT_STABLE), but one a connection keeps it simple.
struct SendMsg {
    msghdr msg;
    iovec iov[kSendBufs];
};
SendMsg *send_msgs;
int *starved;      // connections whose recv ended for want of buffers
int n_starved;

// user_data carries everything a completion needs, even after its connection is gone:
// op (3 bits), buffers being sent (5), generation (16), the first of them (16),
// descriptor (24).
uint64_t ud(Op op, int fd, uint16_t gen, uint16_t bid = kUringNoBuf, unsigned nbufs = 0) {
    return (uint64_t)op << 61 | (uint64_t)nbufs << 56 | (uint64_t)gen << 40 | (uint64_t)bid << 24 |
           (uint32_t)fd;
}

void arm_accept() {
    io_uring_sqe *s = uring_prep(&ring, IORING_OP_ACCEPT, listen_fd, ud(OP_ACCEPT, listen_fd, 0));
    s->accept_flags = SOCK_CLOEXEC;  // blocking: io_uring would hand EAGAIN back to us
    if (multishot) s->ioprio = IORING_ACCEPT_MULTISHOT;
}

void arm_listen_poll() {
    if (listen_polled) return;
    listen_polled = true;
    uring_prep(&ring, IORING_OP_POLL_ADD, listen_fd, ud(OP_LISTEN, listen_fd, 0))->poll32_events = POLLIN;
}

void arm_recv(int fd, Conn &c) {
    io_uring_sqe *s = uring_prep(&ring, IORING_OP_RECV, fd, ud(OP_RECV, fd, c.gen));
    if (multishot) {  // len 0: each completion fills at most one provided buffer
        s->ioprio = IORING_RECV_MULTISHOT;
        s->flags = IOSQE_BUFFER_SELECT;
        s->buf_group = 0;
    } else {
        s->addr = (uint64_t)(uintptr_t)(plain_bufs + (size_t)fd * kBufSize);
        s->len = kBufSize;
    }
    c.recv_armed = true;
    c.paused = false;
}

// Re-arms the recv once the echo has caught up: that is the backpressure.
void maybe_recv(int fd, Conn &c) {
    if (!c.recv_armed && !c.peer_done && !c.starved && c.held <= (multishot ? kHeldCap / 2 : 0))
        arm_recv(fd, c);
}

// One send per connection at a time, so echoes cannot overtake each other: the
// queued buffers from the head on, up to kSendBufs in one sendmsg (for a single
// buffer no dearer than a send: 3.2 us a request either way, measured).
void send_head(int fd, Conn &c) {
    io_uring_sqe *s;
    if (!multishot) {
        s = uring_prep(&ring, IORING_OP_SEND, fd, ud(OP_SEND, fd, c.gen));
        s->addr = (uint64_t)(uintptr_t)(plain_bufs + (size_t)fd * kBufSize + c.send_off);
        s->len = c.held;
    } else {
        SendMsg &m = send_msgs[fd];
        unsigned n = uring_bufq_iov(pbufs, c.q, c.send_off, m.iov, kSendBufs);
        m.msg = msghdr{};
        m.msg.msg_iov = m.iov;
        m.msg.msg_iovlen = n;
        s = uring_prep(&ring, IORING_OP_SENDMSG, fd, ud(OP_SEND, fd, c.gen, c.q.head, n));
        s->addr = (uint64_t)(uintptr_t)&m.msg;
        s->len = 1;
        c.send_bufs = (uint8_t)n;
    }
    s->msg_flags = MSG_NOSIGNAL;
    c.sending = true;
}

void close_conn(int fd) {
    Conn &c = conns[fd];
    // A posted recv or send holds its own reference to the socket, so close() alone
    // would neither end them nor send FIN; shutdown() wakes both, and they complete.
    if (c.recv_armed || c.sending) shutdown(fd, SHUT_RDWR);
    close_fd(fd);
    // Queued buffers go back now; those being sent, when their send completes.
    if (multishot && c.q.head != kUringNoBuf) {
        uint16_t b = c.q.head;
        for (unsigned k = c.sending ? c.send_bufs : 0; k > 0 && b != kUringNoBuf; k--) b = pbufs.next[b];
        uring_buf_give_chain(&pbufs, b, kBufCount);
    }
    uint16_t gen = (uint16_t)(c.gen + 1);
    bool in_list = c.starved;  // the starved list still names this descriptor
    c = Conn{};
    c.gen = gen;
    c.starved = in_list;
    st.open--;
    if (accept_paused) {
        accept_paused = false;
        arm_accept();
    }
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
        if (multishot) {
            uint16_t bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
            uring_bufq_push(&pbufs, &c.q, bid, (uint32_t)res);
            if (c.held >= kHeldCap && c.recv_armed && !c.paused) {
                // A reader this slow gets no more buffers: cancel the multishot recv.
                io_uring_sqe *s = uring_prep(&ring, IORING_OP_ASYNC_CANCEL, -1, ud(OP_CANCEL, fd, c.gen));
                s->addr = ud(OP_RECV, fd, c.gen);
                s->flags = IOSQE_CQE_SKIP_SUCCESS;
                c.paused = true;
            }
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
    // A send may end anywhere in the buffers it gathered: those wholly sent go back.
    while (multishot && c.q.head != kUringNoBuf && c.send_off >= pbufs.len[c.q.head]) {
        c.send_off -= pbufs.len[c.q.head];
        uring_bufq_pop(&pbufs, &c.q);
    }
    if (c.held) {
        send_head(fd, c);  // a short send resumes where it stopped
        return;
    }
    c.send_off = 0;
    if (c.peer_done) close_conn(fd);
    else maybe_recv(fd, c);
}


void arm_tick() {  // -t: a timeout completing every kIdleScanMs drives the idle scan
    static const __kernel_timespec scan = {0, kIdleScanMs * 1000000LL};
    uring_prep_timeout(&ring, &scan, ud(OP_TICK, 0, 0));
}

void arm_signal() {  // the stop signals stay blocked; the signalfd turns them into a completion
    uring_prep(&ring, IORING_OP_POLL_ADD, sig_fd, ud(OP_SIGNAL, sig_fd, 0))->poll32_events = POLLIN;
}

void handle(const io_uring_cqe &cqe) {
    Op op = (Op)(cqe.user_data >> 61);
    unsigned nbufs = (unsigned)(cqe.user_data >> 56) & 31;
    int fd = (int)(cqe.user_data & 0xffffff);
    uint16_t gen = (uint16_t)(cqe.user_data >> 40), bid = (uint16_t)(cqe.user_data >> 24);
    uint16_t recv_bid = (uint16_t)(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
    if (cqe.flags & IORING_CQE_F_BUFFER) pbufs.n_free--;
    switch (op) {
    case OP_ACCEPT: on_accept(cqe.res, cqe.flags); break;
    case OP_RECV:
    case OP_SEND: {
        Conn &c = conns[fd];
        if (!c.open || c.gen != gen) {  // late news of a closed connection: reclaim its buffers
            if (cqe.flags & IORING_CQE_F_BUFFER) uring_buf_give(&pbufs, recv_bid);
            if (op == OP_SEND) uring_buf_give_chain(&pbufs, bid, nbufs);
        } else if (op == OP_RECV) {
            on_recv(fd, c, cqe.res, cqe.flags);
        } else {
            on_send(fd, c, cqe.res);
        }
        break;
    }
    case OP_TICK:
        close_idle_conns(conns, max_open_fd, now_ms, cfg.idle_s, &st, close_conn);
        arm_tick();
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
    if (getpid() != ring_pid) {  // a -w worker: the ring it inherited is its parent's
        close(ring.fd);
        multishot = uring_setup(&ring, kSqEntries, kCqEntries) && multishot;
        if (multishot && !uring_bufs_setup(&ring, &pbufs, kBufCount, kBufSize)) multishot = false;
    }
    listen_fd = lfd;
    if (!multishot) plain_bufs = (char *)uring_map((size_t)max_fds * kBufSize, -1, 0);
    else send_msgs = per_fd_array<SendMsg>(max_fds);
    reserve_fd = reserve_fd_open();
    sig_fd = uring_stop_signalfd();
    conns = per_fd_array<Conn>(max_fds);
    starved = per_fd_array<int>(max_fds);

    start_ns = mono_ns();
    arm_signal();
    arm_accept();
    if (cfg.idle_s) arm_tick();
    while (!g_stop) {
        if (multishot) uring_bufs_publish(&pbufs);
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
}

}  // namespace

int main(int argc, char **argv) {
    sigset_t wait_mask;
    max_fds = server_init(argc, argv, C10K_PROG, &cfg, &wait_mask);
    // This ring says which flavour the kernel offers, for the start line; a -w worker
    // sets up its own (SINGLE_ISSUER: only the task that made a ring may use it).
    // SRV_URING_PLAIN: the fallback path on a kernel that has the fast one, for tests.
    multishot = uring_setup(&ring, kSqEntries, kCqEntries) && !getenv("SRV_URING_PLAIN");
    if (multishot && !uring_bufs_setup(&ring, &pbufs, kBufCount, kBufSize)) multishot = false;
    ring_pid = getpid();
    return serve_main(&cfg, multishot ? "io_uring (multishot accept and recv, provided buffers)"
                                      : "io_uring (single-shot accept, recv per connection)",
                      server_capacity(cfg, max_fds, 4), serve, &st);
}
