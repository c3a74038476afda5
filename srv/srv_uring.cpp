// srv_uring: timestamp echo server on io_uring, through the raw system calls.
//
// Completion-based: instead of asking which sockets are ready, the server posts the
// work (accept, recv, send) and reaps what finished, all of it batched into one
// io_uring_enter per round. One multishot accept yields every connection; one
// multishot recv per connection keeps delivering into buffers the kernel takes from
// a ring shared with us (provided buffers), so an idle connection holds no buffer.
// The echo is sent from the buffer the data arrived in, which goes back to the ring
// when the send completes. Before Linux 6.1 (or with SRV_URING_PLAIN set) it falls
// back to single-shot accept and a plain recv into a buffer per connection.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <linux/io_uring.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/net.h"
#include "../common/server.h"
#include "../common/util.h"
#include "../common/workers.h"

namespace {

constexpr unsigned kSqEntries = 4096, kCqEntries = 32768;
constexpr unsigned kBufCount = 8192, kBufSize = 2048;  // provided buffers: 16 MiB
constexpr uint32_t kHeldCap = 64 * 1024;  // unsent bytes per connection before recv pauses
constexpr uint16_t kNoBuf = 0xffff;

enum Op : uint8_t { OP_ACCEPT = 1, OP_RECV, OP_SEND, OP_TICK, OP_SIGNAL, OP_CANCEL, OP_LISTEN };

struct Conn {
    uint32_t held;            // bytes received, not yet echoed
    uint32_t send_off;        // bytes of the head buffer already sent
    uint32_t last_active;     // seconds since start, for -t
    uint16_t q_head, q_tail;  // received buffers in order, linked through next_buf
    uint16_t gen;             // tells a closed connection's late completions from its successor's
    bool open, recv_armed, sending, paused, peer_done, starved;
};

struct Ring {
    int fd;
    unsigned *sq_head, *sq_tail, *cq_head, *cq_tail;
    unsigned sq_mask, cq_mask, sq_entries, local_tail;
    io_uring_sqe *sqes;
    io_uring_cqe *cqes;
};

ServerConfig cfg;
ServerStats st;
Ring ring;
Conn *conns;
long max_fds;
int max_open_fd = -1;
int listen_fd, reserve_fd, sig_fd;
pid_t ring_pid;  // the process that set up `ring`
sigset_t wait_mask;
uint32_t now_s;
uint64_t start_ns;
bool multishot;  // multishot accept and recv with provided buffers, or the fallback
// io_uring's accept takes a descriptor before it looks for a connection, so out of
// descriptors it fails at once, pending connection or not: re-armed, it would spin.
// It waits instead until a connection closes, and meanwhile polls the listener to
// refuse newcomers as they come (as an edge-triggered epoll loop would).
bool accept_paused, listen_polled;

// Provided buffers: kBufCount slices of bufs, lent to the kernel through buf_ring.
// Not io_uring_buf_ring::bufs: in C++ the header's flexible array sits behind an
// empty struct of size 1, 8 bytes off. The ring's tail overlays entry 0's resv.
char *bufs;
io_uring_buf *buf_ring;
uint16_t buf_tail;  // ours; published once per round
unsigned free_bufs;
uint32_t buf_len[kBufCount];
uint16_t next_buf[kBufCount];
char *plain_bufs;  // fallback: kBufSize per descriptor
int *starved;      // connections whose recv ended for want of buffers
int n_starved;

void usage(FILE *out) {
    fprintf(out, "usage: srv_uring [-hq] [-a addr] [-b backlog] [-t idle-seconds] [-w workers] [port]\n");
}

// user_data carries everything a completion needs, even after its connection is gone:
// op (8 bits), generation (16), buffer being sent (16), descriptor (24).
uint64_t ud(Op op, int fd, uint16_t gen, uint16_t bid = kNoBuf) {
    return (uint64_t)op << 56 | (uint64_t)gen << 40 | (uint64_t)bid << 24 | (uint32_t)fd;
}

int sys_enter(unsigned submit, unsigned wait, unsigned flags) {
    return (int)syscall(__NR_io_uring_enter, ring.fd, submit, wait, flags, nullptr, 0);
}

// The tail store is a release: the kernel must see the SQE contents before the tail.
unsigned publish_sq() {
    __atomic_store_n(ring.sq_tail, ring.local_tail, __ATOMIC_RELEASE);
    return ring.local_tail - __atomic_load_n(ring.sq_head, __ATOMIC_ACQUIRE);
}

io_uring_sqe *prep(uint8_t opcode, int fd, uint64_t user_data) {
    if (ring.local_tail - __atomic_load_n(ring.sq_head, __ATOMIC_ACQUIRE) == ring.sq_entries) {
        // Full mid-round: submit without waiting, the round goes on.
        if (sys_enter(publish_sq(), 0, 0) < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY)
            die_errno(EXIT_RUNTIME, "io_uring_enter");
        if (ring.local_tail - *ring.sq_head == ring.sq_entries)
            die(EXIT_RUNTIME, "io_uring_enter: submission queue stays full");
    }
    io_uring_sqe *s = &ring.sqes[ring.local_tail++ & ring.sq_mask];
    memset(s, 0, sizeof *s);
    s->opcode = opcode;
    s->fd = fd;
    s->user_data = user_data;
    return s;
}

void give_buf(uint16_t bid) {
    io_uring_buf *b = &buf_ring[buf_tail++ & (kBufCount - 1)];
    b->addr = (uint64_t)(uintptr_t)(bufs + (size_t)bid * kBufSize);
    b->len = kBufSize;
    b->bid = bid;
    free_bufs++;
}

void arm_accept() {
    io_uring_sqe *s = prep(IORING_OP_ACCEPT, listen_fd, ud(OP_ACCEPT, listen_fd, 0));
    s->accept_flags = SOCK_CLOEXEC;  // blocking: io_uring would hand EAGAIN back to us
    if (multishot) s->ioprio = IORING_ACCEPT_MULTISHOT;
}

void arm_listen_poll() {
    if (listen_polled) return;
    listen_polled = true;
    prep(IORING_OP_POLL_ADD, listen_fd, ud(OP_LISTEN, listen_fd, 0))->poll32_events = POLLIN;
}

void arm_recv(int fd, Conn &c) {
    io_uring_sqe *s = prep(IORING_OP_RECV, fd, ud(OP_RECV, fd, c.gen));
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

// One send per connection at a time, so echoes cannot overtake each other.
void send_head(int fd, Conn &c) {
    char *p = plain_bufs + (size_t)fd * kBufSize + c.send_off;
    uint32_t n = c.held;
    if (multishot) {
        p = bufs + (size_t)c.q_head * kBufSize + c.send_off;
        n = buf_len[c.q_head] - c.send_off;
    }
    io_uring_sqe *s = prep(IORING_OP_SEND, fd, ud(OP_SEND, fd, c.gen, multishot ? c.q_head : kNoBuf));
    s->addr = (uint64_t)(uintptr_t)p;
    s->len = n;
    s->msg_flags = MSG_NOSIGNAL;
    c.sending = true;
}

void close_conn(int fd) {
    Conn &c = conns[fd];
    // A posted recv or send holds its own reference to the socket, so close() alone
    // would neither end them nor send FIN; shutdown() wakes both, and they complete.
    if (c.recv_armed || c.sending) shutdown(fd, SHUT_RDWR);
    close_fd(fd);
    // Queued buffers go back now; the one being sent, when its send completes.
    if (multishot && c.q_head != kNoBuf)
        for (uint16_t b = c.sending ? next_buf[c.q_head] : c.q_head; b != kNoBuf; b = next_buf[b])
            give_buf(b);
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
    static bool warned;
    bool nofd = res == -EMFILE || res == -ENFILE;
    if (nofd) accept_paused = true;
    else if (!(flags & IORING_CQE_F_MORE)) arm_accept();
    if (res < 0) {
        if (nofd) {
            if (!warned) warn_msg("accept: %s (refusing connections until descriptors free up)",
                                strerror(-res));
            warned = true;
            st.n[C_REFUSED_NOFD] += (uint64_t)emfile_refuse(listen_fd, &reserve_fd);
            arm_listen_poll();
        } else if (res != -ECONNABORTED && res != -EPROTO && res != -EINTR && res != -EAGAIN) {
            st.n[C_ACCEPT_ERROR]++;
            warn_msg("accept: %s", strerror(-res));
        }
        return;
    }
    if (res >= max_fds) {
        st.n[C_ACCEPT_ERROR]++;
        close(res);
        return;
    }
    set_nodelay(res);
    Conn &c = conns[res];
    c.open = true;
    c.last_active = now_s;
    c.q_head = c.q_tail = kNoBuf;
    if (res > max_open_fd) max_open_fd = res;
    st.opened();
    arm_recv(res, c);
}

void on_recv(int fd, Conn &c, int res, uint32_t flags) {
    if (!(flags & IORING_CQE_F_MORE)) c.recv_armed = false;
    if (res > 0) {
        if (cfg.idle_s) c.last_active = now_s;
        c.held += (uint32_t)res;
        if (multishot) {
            uint16_t bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
            buf_len[bid] = (uint32_t)res;
            next_buf[bid] = kNoBuf;
            if (c.q_tail == kNoBuf) c.q_head = bid;
            else next_buf[c.q_tail] = bid;
            c.q_tail = bid;
            if (c.held >= kHeldCap && c.recv_armed && !c.paused) {
                // A reader this slow gets no more buffers: cancel the multishot recv.
                io_uring_sqe *s = prep(IORING_OP_ASYNC_CANCEL, -1, ud(OP_CANCEL, fd, c.gen));
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
    if (multishot && c.send_off == buf_len[c.q_head]) {
        uint16_t b = c.q_head;
        c.q_head = next_buf[b];
        if (c.q_head == kNoBuf) c.q_tail = kNoBuf;
        give_buf(b);
        c.send_off = 0;
    }
    if (c.held) {
        send_head(fd, c);  // a short send resumes where it stopped
        return;
    }
    c.send_off = 0;
    if (c.peer_done) close_conn(fd);
    else maybe_recv(fd, c);
}

void close_idle() {
    for (int fd = 0; fd <= max_open_fd; fd++) {
        if (conns[fd].open && now_s - conns[fd].last_active >= (uint32_t)cfg.idle_s) {
            close_conn(fd);
            st.n[C_IDLE_CLOSED]++;
        }
    }
}

void arm_tick() {  // -t: a timeout completing once a second drives the idle scan
    static __kernel_timespec one_second = {1, 0};
    io_uring_sqe *s = prep(IORING_OP_TIMEOUT, -1, ud(OP_TICK, 0, 0));
    s->addr = (uint64_t)(uintptr_t)&one_second;
    s->len = 1;
}

void arm_signal() {  // the stop signals stay blocked; the signalfd turns them into a completion
    prep(IORING_OP_POLL_ADD, sig_fd, ud(OP_SIGNAL, sig_fd, 0))->poll32_events = POLLIN;
}

void handle(const io_uring_cqe &cqe) {
    Op op = (Op)(cqe.user_data >> 56);
    int fd = (int)(cqe.user_data & 0xffffff);
    uint16_t gen = (uint16_t)(cqe.user_data >> 40), bid = (uint16_t)(cqe.user_data >> 24);
    if (cqe.flags & IORING_CQE_F_BUFFER) free_bufs--;
    switch (op) {
    case OP_ACCEPT: on_accept(cqe.res, cqe.flags); break;
    case OP_RECV:
    case OP_SEND: {
        Conn &c = conns[fd];
        if (!c.open || c.gen != gen) {  // late news of a closed connection: reclaim its buffers
            if (cqe.flags & IORING_CQE_F_BUFFER) give_buf((uint16_t)(cqe.flags >> IORING_CQE_BUFFER_SHIFT));
            if (op == OP_SEND && bid != kNoBuf) give_buf(bid);
        } else if (op == OP_RECV) {
            on_recv(fd, c, cqe.res, cqe.flags);
        } else {
            on_send(fd, c, cqe.res);
        }
        break;
    }
    case OP_TICK:
        now_s = (uint32_t)((mono_ns() - start_ns) / 1000000000u);
        close_idle();
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

// Consumes each CQE before handling it, so that a handler that has to submit (a full
// SQ) leaves the kernel room to post. Acquire on the tail: read entries after it.
void reap() {
    unsigned head = *ring.cq_head;
    while (head != __atomic_load_n(ring.cq_tail, __ATOMIC_ACQUIRE)) {
        io_uring_cqe cqe = ring.cqes[head & ring.cq_mask];
        __atomic_store_n(ring.cq_head, ++head, __ATOMIC_RELEASE);
        handle(cqe);
    }
}

const char *setup_hint(int err) {
    if (err == ENOSYS) return " (this kernel has no io_uring: it needs Linux 5.7 or later)";
    if (err != EPERM) return "";
    FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
    int v = f ? fgetc(f) : EOF;
    if (f) fclose(f);
    if (v == '1' || v == '2')
        return " (io_uring disabled: sysctl kernel.io_uring_disabled=0 enables it)";
    return " (io_uring is forbidden here, by seccomp or a container policy)";
}

void *map(size_t len, int fd, off_t off) {
    void *p = mmap(nullptr, len, PROT_READ | PROT_WRITE,
                   fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED | MAP_POPULATE, fd, off);
    if (p == MAP_FAILED) die_errno(EXIT_RUNTIME, "mmap");
    return p;
}

void setup_ring() {
    io_uring_params p = {};
    // SINGLE_ISSUER|DEFER_TASKRUN: completions are only run when we enter the ring,
    // with no interrupting task work; it is also the witness of a kernel >= 6.1,
    // which has multishot accept and recv and buffer rings.
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER |
              IORING_SETUP_DEFER_TASKRUN;
    p.cq_entries = kCqEntries;
    ring.fd = (int)syscall(__NR_io_uring_setup, kSqEntries, &p);
    multishot = ring.fd >= 0 && !getenv("SRV_URING_PLAIN");
    if (ring.fd < 0 && errno == EINVAL) {
        p = {};
        p.flags = IORING_SETUP_CQSIZE;
        p.cq_entries = kCqEntries;
        ring.fd = (int)syscall(__NR_io_uring_setup, kSqEntries, &p);
    }
    if (ring.fd < 0) {
        int e = errno;
        die(EXIT_RUNTIME, "io_uring_setup: %s%s", strerror(e), setup_hint(e));
    }
    size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
    bool single = p.features & IORING_FEAT_SINGLE_MMAP;  // one mapping for both rings
    if (single) sq_len = cq_len = sq_len > cq_len ? sq_len : cq_len;
    char *sq = (char *)map(sq_len, ring.fd, IORING_OFF_SQ_RING);
    char *cq = single ? sq : (char *)map(cq_len, ring.fd, IORING_OFF_CQ_RING);
    ring.sqes = (io_uring_sqe *)map(p.sq_entries * sizeof(io_uring_sqe), ring.fd, IORING_OFF_SQES);
    ring.sq_head = (unsigned *)(sq + p.sq_off.head);
    ring.sq_tail = (unsigned *)(sq + p.sq_off.tail);
    ring.sq_mask = *(unsigned *)(sq + p.sq_off.ring_mask);
    ring.sq_entries = p.sq_entries;
    ring.local_tail = *ring.sq_tail;
    unsigned *array = (unsigned *)(sq + p.sq_off.array);
    for (unsigned i = 0; i < p.sq_entries; i++) array[i] = i;  // SQE i sits in slot i, always
    ring.cq_head = (unsigned *)(cq + p.cq_off.head);
    ring.cq_tail = (unsigned *)(cq + p.cq_off.tail);
    ring.cq_mask = *(unsigned *)(cq + p.cq_off.ring_mask);
    ring.cqes = (io_uring_cqe *)(cq + p.cq_off.cqes);
}

bool setup_buffers() {
    buf_ring = (io_uring_buf *)map(kBufCount * sizeof(io_uring_buf), -1, 0);
    bufs = (char *)map((size_t)kBufCount * kBufSize, -1, 0);
    io_uring_buf_reg reg = {};
    reg.ring_addr = (uint64_t)(uintptr_t)buf_ring;
    reg.ring_entries = kBufCount;
    if (syscall(__NR_io_uring_register, ring.fd, IORING_REGISTER_PBUF_RING, &reg, 1) != 0)
        return false;
    for (unsigned i = 0; i < kBufCount; i++) give_buf((uint16_t)i);
    return true;
}

// One ring and its loop, in this process, until SIGINT or SIGTERM.
void serve(int lfd) {
    if (getpid() != ring_pid) {  // a worker: the ring it inherited is its parent's
        close(ring.fd);
        setup_ring();
        if (multishot && !setup_buffers()) multishot = false;
    }
    listen_fd = lfd;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    if (!multishot) plain_bufs = (char *)map((size_t)max_fds * kBufSize, -1, 0);
    reserve_fd = reserve_fd_open();
    sig_fd = signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sig_fd < 0) die_errno(EXIT_RUNTIME, "signalfd");
    // calloc: pages of the array are touched only as descriptors reach them.
    conns = (Conn *)calloc((size_t)max_fds, sizeof *conns);
    starved = (int *)calloc((size_t)max_fds, sizeof *starved);
    if (!conns || !starved) die(EXIT_RUNTIME, "cannot allocate state for %ld descriptors", max_fds);

    start_ns = mono_ns();
    arm_signal();
    arm_accept();
    if (cfg.idle_s) arm_tick();
    while (!g_stop) {
        // Buffers given back this round become visible to the kernel at once (release).
        if (multishot) __atomic_store_n(&buf_ring[0].resv, buf_tail, __ATOMIC_RELEASE);
        if (sys_enter(publish_sq(), 1, IORING_ENTER_GETEVENTS) < 0 && errno != EINTR &&
            errno != EAGAIN && errno != EBUSY)
            die_errno(EXIT_RUNTIME, "io_uring_enter");
        reap();
        // Starved connections get their recv back, as many as there are free buffers.
        for (unsigned budget = free_bufs; n_starved > 0 && budget > 0; budget--) {
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
    g_prog = "srv_uring";
    server_parse_args(argc, argv, &cfg, true, usage);
    max_fds = raise_fd_limit();
    setup_signals(&wait_mask);
    // This ring says which flavour the kernel offers, for the start line; a -w
    // worker sets up its own (SINGLE_ISSUER: only the task that made a ring may use it).
    setup_ring();
    if (multishot && !setup_buffers()) multishot = false;
    ring_pid = getpid();
    return serve_main(&cfg, multishot ? "io_uring (multishot accept and recv, provided buffers)"
                                      : "io_uring (single-shot accept, recv per connection)",
                      max_fds - 7, serve, &st);
}
