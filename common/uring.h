// io_uring through the raw system calls: setup, submission, completion. No liburing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <linux/io_uring.h>
#include <sys/socket.h>
#include <sys/uio.h>

// Newer than some system headers. Bundled receives: Linux 6.10.
#ifndef IORING_RECVSEND_BUNDLE
#define IORING_RECVSEND_BUNDLE (1U << 4)
#endif
#ifndef IORING_FEAT_RECVSEND_BUNDLE
#define IORING_FEAT_RECVSEND_BUNDLE (1U << 14)
#endif
// Linux 6.15, which also lets a multishot recv's len cap each completion.
#ifndef IORING_FEAT_NO_IOWAIT
#define IORING_FEAT_NO_IOWAIT (1U << 17)
#endif

struct Uring {
    int fd;
    unsigned *sq_head, *sq_tail, *cq_head, *cq_tail;
    unsigned sq_mask, cq_mask, sq_entries, local_tail;
    unsigned features;  // IORING_FEAT_*
    io_uring_sqe *sqes;
    io_uring_cqe *cqes;
};

// Sets up and maps the rings, or exits 1 with the reason and a hint. Returns true if
// the kernel took SINGLE_ISSUER|DEFER_TASKRUN (Linux >= 6.1: multishot accept and
// recv, buffer rings); false after the plain fallback.
bool uring_setup(Uring *r, unsigned sq_entries, unsigned cq_entries);
// A zeroed SQE with opcode, fd and user_data set; submits at once if the SQ is full.
io_uring_sqe *uring_prep(Uring *r, uint8_t opcode, int fd, uint64_t user_data);
// Submits everything prepared and waits for at least `wait` completions; EINTR,
// EAGAIN and EBUSY return, other errors exit 1.
void uring_submit_wait(Uring *r, unsigned wait);
// Calls handle on each completion, consumed first so that handle may submit.
void uring_reap(Uring *r, void (*handle)(const io_uring_cqe &));
// A poll for POLLIN on fd, one-shot.
io_uring_sqe *uring_prep_poll_in(Uring *r, int fd, uint64_t user_data);
// Cancels the request tagged target; only a failure completes (as user_data).
io_uring_sqe *uring_prep_cancel(Uring *r, uint64_t target, uint64_t user_data);
// Points s at len bytes from p.
inline io_uring_sqe *uring_sqe_buf(io_uring_sqe *s, const void *p, uint32_t len) {
    s->addr = (uint64_t)(uintptr_t)p;
    s->len = len;
    return s;
}
// A timeout SQE completing after *ts (which must outlive it).
io_uring_sqe *uring_prep_timeout(Uring *r, const __kernel_timespec *ts, uint64_t user_data);
// A non-blocking signalfd for SIGINT and SIGTERM (kept blocked by setup_signals), so
// that a stop arrives as a completion of a poll on it; exits 1 on failure.
int uring_stop_signalfd();
// mmap of the ring (fd, off) or, with fd -1, of anonymous memory; exits 1 on failure.
void *uring_map(size_t len, int fd, long off);

// Provided buffers: count slices of size bytes (count a power of two), lent to the
// kernel through a buffer ring registered as group 0. The ring's tail overlays entry
// 0's resv (not io_uring_buf_ring::bufs: in C++ the header's flexible array sits
// behind an empty struct of size 1, 8 bytes off).
struct UringBufs {
    char *base;
    io_uring_buf *ring;
    uint32_t *len;   // bytes received into each buffer
    uint16_t *next;  // links of the queues below
    unsigned count, size, n_free;
    uint16_t tail;  // ours; published by uring_bufs_publish
    uint16_t head;  // the next entry the kernel takes: it takes them in order
};
constexpr uint16_t kUringNoBuf = 0xffff;
// Received buffers in order (a connection's), linked through UringBufs::next.
struct UringBufQueue {
    uint16_t head, tail;
};
// Appends what a completion brought to q, if it brought buffers (cqe_flags), and
// counts them as lent out: res bytes, in the ring's next entries (a bundle fills
// several, whole but the last; the CQE names only the first).
void uring_bufq_take(UringBufs *b, UringBufQueue *q, uint32_t cqe_flags, int res);
// Buffers go back to the ring through uring_buf_give_chain alone: n of them linked
// from bid on. Returns the one after them (kUringNoBuf at the chain's end).
uint16_t uring_buf_give_chain(UringBufs *b, uint16_t bid, unsigned n);
// At a close: gives back the queue's buffers after its first keep (those a send in
// flight still reads, which go back when it completes).
void uring_bufq_give_after(UringBufs *b, UringBufQueue *q, unsigned keep);
// A send of *off bytes from the head on may end anywhere in the buffers it
// gathered: gives back those wholly sent; *off becomes the offset into the new head.
void uring_bufq_give_sent(UringBufs *b, UringBufQueue *q, uint32_t *off);
// A gathered send's message: the kernel reads it at submission
// (IORING_FEAT_SUBMIT_STABLE), but one per connection keeps it simple. Gathered, a
// 64 KiB request goes back in one send, not one a buffer (each a completion and a
// trip through TCP: with 2 KiB buffers, 6.5 times epoll's CPU per MiB).
constexpr unsigned kUringSendBufs = 32;
struct UringSendMsg {
    msghdr msg;
    iovec iov[kUringSendBufs];
};
// A sendmsg SQE (MSG_NOSIGNAL) for the queue's buffers from the head on (the head
// from off), at most kUringSendBufs; *n says how many it covers.
io_uring_sqe *uring_prep_send_bufs(Uring *r, int fd, const UringBufs &b, const UringBufQueue &q,
                                   uint32_t off, UringSendMsg *m, unsigned *n);
// Maps and registers the buffers and lends them all; false if the kernel refuses.
bool uring_bufs_setup(Uring *r, UringBufs *b, unsigned count, unsigned size);
inline char *uring_buf(const UringBufs &b, uint16_t bid) { return b.base + (size_t)bid * b.size; }
void uring_buf_give(UringBufs *b, uint16_t bid);
// Buffers given back become visible to the kernel at once (release); none before setup.
inline void uring_bufs_publish(UringBufs *b) {
    if (b->ring) __atomic_store_n(&b->ring[0].resv, b->tail, __ATOMIC_RELEASE);
}

// A completion's user_data: all it takes to handle it, even once the connection it
// was for has closed. Packed and unpacked here alone; the widths, low bits first:
constexpr unsigned kTagFdBits = 23, kTagBidBits = 16, kTagGenBits = 16, kTagBufsBits = 6,
                   kTagOpBits = 3;
struct UringTag {
    uint8_t op;      // what was asked
    uint8_t nbufs;   // buffers a send covers
    uint16_t gen;    // the connection's generation
    uint16_t bid;    // the first of those buffers
    uint32_t fd;
};
static_assert(kTagFdBits + kTagBidBits + kTagGenBits + kTagBufsBits + kTagOpBits == 64,
              "the fields fill user_data");
static_assert(kTagBidBits == 16 && kTagGenBits == 16 && kTagFdBits <= 32 && kTagBufsBits <= 8 &&
                  kTagOpBits <= 8, "each field fits its member whole");
constexpr unsigned kUringTagMaxOp = (1u << kTagOpBits) - 1, kUringTagMaxBufs = (1u << kTagBufsBits) - 1;
// A field too wide for its bits would spill into the next: callers assert their
// maxima against these; descriptors stay below RLIMIT_NOFILE (fs.nr_open, 2^20 by
// default), far under 2^23.
constexpr uint64_t uring_tag(UringTag t) {
    uint64_t v = t.op;
    v = v << kTagBufsBits | t.nbufs;
    v = v << kTagGenBits | t.gen;
    v = v << kTagBidBits | t.bid;
    return v << kTagFdBits | t.fd;
}
constexpr uint32_t uring_tag_take(uint64_t *v, unsigned bits) {
    uint32_t f = (uint32_t)(*v & ((1ull << bits) - 1));
    *v >>= bits;
    return f;
}
constexpr UringTag uring_untag(uint64_t v) {
    UringTag t = {};
    t.fd = uring_tag_take(&v, kTagFdBits);
    t.bid = (uint16_t)uring_tag_take(&v, kTagBidBits);
    t.gen = (uint16_t)uring_tag_take(&v, kTagGenBits);
    t.nbufs = (uint8_t)uring_tag_take(&v, kTagBufsBits);
    t.op = (uint8_t)uring_tag_take(&v, kTagOpBits);
    return t;
}
constexpr bool uring_tag_round_trips(UringTag t) {
    UringTag u = uring_untag(uring_tag(t));
    return u.op == t.op && u.nbufs == t.nbufs && u.gen == t.gen && u.bid == t.bid && u.fd == t.fd;
}
// Every field near its maximum comes back whole, and none spills into a neighbour.
static_assert(uring_tag_round_trips({7, 63, 0xfffe, 0xfffd, 0x7ffffc}) &&
                  uring_tag_round_trips({1, 0, 0, 0, 0x7fffff}) && uring_tag_round_trips({0, 1, 1, 1, 0}),
              "uring_tag and uring_untag agree");
