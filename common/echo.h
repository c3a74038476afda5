// The echo a socket would not take yet, for the event loops. A connection owns a
// buffer only while a send to it has come up short; past kPendCap unsent bytes its
// server stops reading from it, so a client that never reads costs a bounded
// 64 KiB (backpressure), and the kernel's socket buffers hold the rest.
#pragma once
#include <cstddef>
#include <cstdint>
#include <sys/types.h>

#include "server.h"

constexpr uint32_t kPendCap = 64 * 1024;

struct Pending {
    char *buf;  // kPendCap bytes, allocated on the first short send
    uint32_t off, len;
};

// Echoes data[0..n) on fd: sends it at once when nothing is queued (to keep the
// order), and queues what the socket does not take. n must fit in the queue:
// read at most pending_room() bytes. false: the connection failed; the failure is
// counted in st and the caller closes it.
bool echo(int fd, Pending *p, const char *data, size_t n, ServerStats *st);

// One recv of at most `room` bytes (pending_room()) into buf, echoed at once.
// Returns the bytes read, 0 at the peer's FIN, or -1 with errno: EAGAIN or EINTR
// when nothing was read, anything else when the connection failed (counted in st;
// the caller closes it).
ssize_t recv_echo(int fd, Pending *p, char *buf, size_t room, ServerStats *st);

// Sends what is queued until it is all sent or the socket takes no more (false
// only when the connection failed, counted in st). Frees the buffer once empty.
bool pending_flush(int fd, Pending *p, ServerStats *st);

// How many bytes a read into a buffer of buf_size may take: no more than the
// queue's room while bytes wait in it.
inline size_t pending_room(const Pending &p, size_t buf_size) {
    size_t room = kPendCap - p.len;
    return p.len && room < buf_size ? room : buf_size;
}

void pending_free(Pending *p);

// A connection of the event loops, in their arrays indexed by descriptor.
struct EchoConn {
    Pending pend;          // unsent echo
    uint32_t last_active;  // ms since start (ms_since), for -t
    bool open, peer_done;
};

// For the level-triggered loops (srv_poll, srv_select), which read once per
// wakeup and let the next wait report what is left. Whether to wait for input:
// not once the peer has finished, nor while the queue is full (backpressure).
inline bool echo_wants_input(const EchoConn &c) { return !c.peer_done && c.pend.len < kPendCap; }
// One read into buf, echoed at once if nothing is queued. false: close the
// connection (it failed, counted in st, or the peer finished and all is sent).
bool echo_read_once(int fd, EchoConn *c, char *buf, size_t buf_size, uint32_t now_ms,
                    ServerStats *st);
// Sends what is queued. false: close the connection (it failed, counted in st, or
// all is sent and the peer has finished).
bool echo_write_queued(int fd, EchoConn *c, ServerStats *st);

// -t: idle_s seconds without input (0: never). Conn: any loop's connection with
// open and last_active (EchoConn, or srv_uring's own).
template <class Conn> bool idle_expired(const Conn &c, uint32_t now_ms, int idle_s) {
    return c.open && idle_s && now_ms - c.last_active >= (uint32_t)idle_s * 1000u;
}

// -t's scan of a loop's array indexed by descriptor, from max_fd down (so that a
// close_conn that lowers the loop's highest descriptor is safe): closes and counts
// every connection idle too long.
template <class Conn, class Close>
void close_idle_conns(Conn *conns, int max_fd, uint32_t now_ms, int idle_s, ServerStats *st,
                      Close close_conn) {
    for (int fd = max_fd; fd >= 0; fd--) {
        if (idle_expired(conns[fd], now_ms, idle_s)) {
            close_conn(fd);
            st->n[C_IDLE_CLOSED]++;
        }
    }
}

// The blocking servers' echo (srv_fork, srv_thread): reads and writes back until
// the peer closes, then closes fd. idle_s > 0: a read that waits that long, or an
// echo of one read that takes that long to send, gives up and counts as
// idle_closed. Counts with atomic adds: st is shared by processes or threads.
void echo_blocking(int fd, int idle_s, ServerStats *st);
