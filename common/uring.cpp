// io_uring plumbing: what liburing would do, in about a hundred lines.
#include "uring.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <csignal>
#include <poll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

namespace {

int enter(Uring *r, unsigned submit, unsigned wait, unsigned flags) {
    return (int)syscall(__NR_io_uring_enter, r->fd, submit, wait, flags, nullptr, 0);
}

// The tail store is a release: the kernel must see the SQE contents before the tail.
unsigned publish_sq(Uring *r) {
    __atomic_store_n(r->sq_tail, r->local_tail, __ATOMIC_RELEASE);
    return r->local_tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
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

}  // namespace

void *uring_map(size_t len, int fd, long off) {
    void *p = mmap(nullptr, len, PROT_READ | PROT_WRITE,
                   fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED | MAP_POPULATE, fd, off);
    if (p == MAP_FAILED) die_errno(EXIT_RUNTIME, "mmap");
    return p;
}

bool uring_setup(Uring *r, unsigned sq_entries, unsigned cq_entries) {
    io_uring_params p = {};
    // SINGLE_ISSUER|DEFER_TASKRUN: completions are only run when we enter the ring,
    // with no interrupting task work; it is also the witness of a kernel >= 6.1,
    // which has multishot accept and recv and buffer rings.
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER |
              IORING_SETUP_DEFER_TASKRUN;
    p.cq_entries = cq_entries;
    r->fd = (int)syscall(__NR_io_uring_setup, sq_entries, &p);
    bool modern = r->fd >= 0;
    if (r->fd < 0 && errno == EINVAL) {
        p = {};
        p.flags = IORING_SETUP_CQSIZE;
        p.cq_entries = cq_entries;
        r->fd = (int)syscall(__NR_io_uring_setup, sq_entries, &p);
    }
    if (r->fd < 0) {
        int e = errno;
        die(EXIT_RUNTIME, "io_uring_setup: %s%s", strerror(e), setup_hint(e));
    }
    size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
    bool single = p.features & IORING_FEAT_SINGLE_MMAP;  // one mapping for both rings
    if (single) sq_len = cq_len = sq_len > cq_len ? sq_len : cq_len;
    char *sq = (char *)uring_map(sq_len, r->fd, IORING_OFF_SQ_RING);
    char *cq = single ? sq : (char *)uring_map(cq_len, r->fd, IORING_OFF_CQ_RING);
    r->sqes = (io_uring_sqe *)uring_map(p.sq_entries * sizeof(io_uring_sqe), r->fd, IORING_OFF_SQES);
    r->sq_head = (unsigned *)(sq + p.sq_off.head);
    r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
    r->sq_mask = *(unsigned *)(sq + p.sq_off.ring_mask);
    r->sq_entries = p.sq_entries;
    r->local_tail = *r->sq_tail;
    unsigned *array = (unsigned *)(sq + p.sq_off.array);
    for (unsigned i = 0; i < p.sq_entries; i++) array[i] = i;  // SQE i sits in slot i, always
    r->cq_head = (unsigned *)(cq + p.cq_off.head);
    r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
    r->cq_mask = *(unsigned *)(cq + p.cq_off.ring_mask);
    r->cqes = (io_uring_cqe *)(cq + p.cq_off.cqes);
    r->features = p.features;
    return modern;
}

io_uring_sqe *uring_prep(Uring *r, uint8_t opcode, int fd, uint64_t user_data) {
    if (r->local_tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE) == r->sq_entries) {
        // Full mid-round: submit without waiting, the round goes on.
        if (enter(r, publish_sq(r), 0, 0) < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY)
            die_errno(EXIT_RUNTIME, "io_uring_enter");
        if (r->local_tail - *r->sq_head == r->sq_entries)
            die(EXIT_RUNTIME, "io_uring_enter: submission queue stays full");
    }
    io_uring_sqe *s = &r->sqes[r->local_tail++ & r->sq_mask];
    memset(s, 0, sizeof *s);
    s->opcode = opcode;
    s->fd = fd;
    s->user_data = user_data;
    return s;
}

io_uring_sqe *uring_prep_timeout(Uring *r, const __kernel_timespec *ts, uint64_t user_data) {
    io_uring_sqe *s = uring_prep(r, IORING_OP_TIMEOUT, -1, user_data);
    s->addr = (uint64_t)(uintptr_t)ts;
    s->len = 1;
    return s;
}

io_uring_sqe *uring_prep_poll_in(Uring *r, int fd, uint64_t user_data) {
    io_uring_sqe *s = uring_prep(r, IORING_OP_POLL_ADD, fd, user_data);
    s->poll32_events = POLLIN;
    return s;
}

io_uring_sqe *uring_prep_cancel(Uring *r, uint64_t target, uint64_t user_data) {
    io_uring_sqe *s = uring_prep(r, IORING_OP_ASYNC_CANCEL, -1, user_data);
    s->addr = target;
    s->flags = IOSQE_CQE_SKIP_SUCCESS;
    return s;
}

int uring_stop_signalfd() {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    int fd = signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) die_errno(EXIT_RUNTIME, "signalfd");
    return fd;
}

void uring_submit_wait(Uring *r, unsigned wait) {
    if (enter(r, publish_sq(r), wait, wait ? IORING_ENTER_GETEVENTS : 0) < 0 && errno != EINTR &&
        errno != EAGAIN && errno != EBUSY)
        die_errno(EXIT_RUNTIME, "io_uring_enter");
}

// Acquire on the tail: read entries after it.
void uring_reap(Uring *r, void (*handle)(const io_uring_cqe &)) {
    unsigned head = *r->cq_head;
    while (head != __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) {
        io_uring_cqe cqe = r->cqes[head & r->cq_mask];
        __atomic_store_n(r->cq_head, ++head, __ATOMIC_RELEASE);
        handle(cqe);
    }
}

void uring_buf_give(UringBufs *b, uint16_t bid) {
    io_uring_buf *e = &b->ring[b->tail++ & (b->count - 1)];
    e->addr = (uint64_t)(uintptr_t)uring_buf(*b, bid);
    e->len = b->size;
    e->bid = bid;
    b->n_free++;
}

bool uring_bufs_setup(Uring *r, UringBufs *b, unsigned count, unsigned size) {
    *b = UringBufs{};
    b->count = count;
    b->size = size;
    b->ring = (io_uring_buf *)uring_map(count * sizeof(io_uring_buf), -1, 0);
    b->base = (char *)uring_map((size_t)count * size, -1, 0);
    b->len = (uint32_t *)uring_map(count * sizeof *b->len, -1, 0);
    b->next = (uint16_t *)uring_map(count * sizeof *b->next, -1, 0);
    io_uring_buf_reg reg = {};
    reg.ring_addr = (uint64_t)(uintptr_t)b->ring;
    reg.ring_entries = count;
    if (syscall(__NR_io_uring_register, r->fd, IORING_REGISTER_PBUF_RING, &reg, 1) != 0)
        return false;
    for (unsigned i = 0; i < count; i++) uring_buf_give(b, (uint16_t)i);
    return true;
}

void uring_bufq_take(UringBufs *b, UringBufQueue *q, uint32_t cqe_flags, int res) {
    if (!(cqe_flags & IORING_CQE_F_BUFFER)) return;
    // Entries are rewritten only once given back, so those taken still say which.
    if (b->ring[b->head & (b->count - 1)].bid != (uint16_t)(cqe_flags >> IORING_CQE_BUFFER_SHIFT))
        die(EXIT_RUNTIME, "provided buffer %u taken out of order", cqe_flags >> IORING_CQE_BUFFER_SHIFT);
    uint32_t left = res > 0 ? (uint32_t)res : 0;
    do {
        uint16_t bid = b->ring[b->head++ & (b->count - 1)].bid;
        b->n_free--;
        b->len[bid] = left < b->size ? left : b->size;
        left -= b->len[bid];
        b->next[bid] = kUringNoBuf;
        if (q->tail == kUringNoBuf) q->head = bid;
        else b->next[q->tail] = bid;
        q->tail = bid;
    } while (left > 0);
}

void uring_bufq_give_after(UringBufs *b, UringBufQueue *q, unsigned keep) {
    uint16_t bid = q->head;
    for (; keep > 0 && bid != kUringNoBuf; keep--) bid = b->next[bid];
    uring_buf_give_chain(b, bid, b->count);
}

void uring_bufq_give_sent(UringBufs *b, UringBufQueue *q, uint32_t *off) {
    unsigned n = 0;
    for (uint16_t bid = q->head; bid != kUringNoBuf && *off >= b->len[bid]; bid = b->next[bid], n++)
        *off -= b->len[bid];
    if ((q->head = uring_buf_give_chain(b, q->head, n)) == kUringNoBuf) q->tail = kUringNoBuf;
}

io_uring_sqe *uring_prep_send_bufs(Uring *r, int fd, const UringBufs &b, const UringBufQueue &q,
                                   uint32_t off, UringSendMsg *m, unsigned *n) {
    *n = 0;
    for (uint16_t bid = q.head; bid != kUringNoBuf && *n < kUringSendBufs; bid = b.next[bid], off = 0) {
        m->iov[*n].iov_base = uring_buf(b, bid) + off;
        m->iov[(*n)++].iov_len = b.len[bid] - off;
    }
    m->msg = msghdr{};
    m->msg.msg_iov = m->iov;
    m->msg.msg_iovlen = *n;
    io_uring_sqe *s = uring_prep(r, IORING_OP_SENDMSG, fd, 0);
    uring_sqe_buf(s, &m->msg, 1)->msg_flags = MSG_NOSIGNAL;
    return s;
}

uint16_t uring_buf_give_chain(UringBufs *b, uint16_t bid, unsigned n) {
    for (; n > 0 && bid != kUringNoBuf; n--) {
        uint16_t next = b->next[bid];
        uring_buf_give(b, bid);
        bid = next;
    }
    return bid;
}
