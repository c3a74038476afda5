// io_uring through the raw system calls: setup, submission, completion. No liburing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <linux/io_uring.h>
#include <sys/uio.h>

struct Uring {
    int fd;
    unsigned *sq_head, *sq_tail, *cq_head, *cq_tail;
    unsigned sq_mask, cq_mask, sq_entries, local_tail;
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
};
constexpr uint16_t kUringNoBuf = 0xffff;
// Received buffers in order (a connection's), linked through UringBufs::next.
struct UringBufQueue {
    uint16_t head, tail;
};
void uring_bufq_push(UringBufs *b, UringBufQueue *q, uint16_t bid, uint32_t len);
void uring_bufq_pop(UringBufs *b, UringBufQueue *q);  // and gives the head back
// The queue's buffers from the head on, at most max, as iovecs (the head from off).
unsigned uring_bufq_iov(const UringBufs &b, const UringBufQueue &q, uint32_t off, iovec *iov,
                        unsigned max);
// Gives back n buffers linked from bid on (a queue's, cut off from it).
void uring_buf_give_chain(UringBufs *b, uint16_t bid, unsigned n);
// Maps and registers the buffers and lends them all; false if the kernel refuses.
bool uring_bufs_setup(Uring *r, UringBufs *b, unsigned count, unsigned size);
inline char *uring_buf(const UringBufs &b, uint16_t bid) { return b.base + (size_t)bid * b.size; }
void uring_buf_give(UringBufs *b, uint16_t bid);
// Buffers given back become visible to the kernel at once (release).
inline void uring_bufs_publish(UringBufs *b) { __atomic_store_n(&b->ring[0].resv, b->tail, __ATOMIC_RELEASE); }
