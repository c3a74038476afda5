// The servers' echo queue (echo, recv_echo, pending_flush) against a fake socket
// that gives and takes random amounts, fails with EAGAIN or EINTR at random, and
// may fail for good (ECONNRESET). It runs the event loops' turn: read while the
// queue has room, flush when writable. Oracles: the bytes sent out are the bytes
// that came in, in order, and all of them once the peer stops sending (unless the
// connection failed, when they are a prefix, the failure counted once);
// bytes_echoed counts exactly what was sent; the queue never holds more than
// kPendCap; the buffer is freed once empty.
//
// The seam is the linker's --wrap=send,--wrap=recv on this program alone: echo.cpp
// calls send() and recv(), and in this binary those calls land in __wrap_send and
// __wrap_recv below. The servers are built from the same echo.cpp, unchanged; a
// function-pointer hook would put an indirect call in the hot path of every server
// (and a test-only branch in production code) to serve the fuzzer alone.
#include <cerrno>
#include <sys/socket.h>

#include "../../common/echo.h"
#include "fuzz.h"

namespace {

constexpr int kFakeFd = 1000;  // never a real descriptor of ours: a stray real call fails

struct Fake {
    Bytes script;           // the fuzzer's choices: amounts and errors
    const uint8_t *in;      // what the peer sends
    size_t in_len, in_off;
    uint8_t out[1 << 20];   // what the server sent
    size_t out_len;
    bool dead;              // reset: every later call fails
    int calls;
} fake;

// How much the next call moves, or -1 with errno.
ssize_t amount(size_t want) {
    fake.calls++;
    if (fake.dead) return errno = ECONNRESET, -1;
    int c = (int)fake.script.take(1);
    if (c == 0xff && fake.script.take(1) == 0xff) {  // rare: the connection breaks
        fake.dead = true;
        return errno = ECONNRESET, -1;
    }
    if (c % 8 == 6) return errno = EAGAIN, -1;
    if (c % 8 == 7) return errno = EINTR, -1;
    size_t n = c % 8 == 5 ? 1 + (size_t)fake.script.take(2) * 16 : 1 + (size_t)(c >> 3) * 37;
    return (ssize_t)(n < want ? n : want);
}

}  // namespace

extern "C" ssize_t __wrap_send(int fd, const void *buf, size_t len, int flags) {
    FUZZ_CHECK(fd == kFakeFd && (flags & MSG_NOSIGNAL), "send(%d, .., %d)", fd, flags);
    FUZZ_CHECK(len > 0, "send of 0 bytes");
    ssize_t n = amount(len);
    if (n > 0 && fake.out_len + (size_t)n > sizeof fake.out) n = (ssize_t)(sizeof fake.out - fake.out_len);
    if (n > 0) memcpy(fake.out + fake.out_len, buf, (size_t)n), fake.out_len += (size_t)n;
    return n;
}

extern "C" ssize_t __wrap_recv(int fd, void *buf, size_t len, int) {
    FUZZ_CHECK(fd == kFakeFd, "recv(%d)", fd);
    FUZZ_CHECK(len > 0, "recv into 0 bytes: the queue is full, nothing should read");
    if (fake.in_off == fake.in_len && !fake.dead) return 0;  // the peer's FIN
    ssize_t n = amount(len);
    if (n > 0 && (size_t)n > fake.in_len - fake.in_off) n = (ssize_t)(fake.in_len - fake.in_off);
    if (n > 0) memcpy(buf, fake.in + fake.in_off, (size_t)n), fake.in_off += (size_t)n;
    return n;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // The first half of the input is what the peer sends, repeated to up to 256 KiB
    // (so that the 64 KiB queue fills); the second half drives the socket.
    static uint8_t stream[256 * 1024];
    Bytes in{data, size};
    size_t reps = 1 + in.take(1) % 64;
    size_t half = in.left() / 2;
    size_t len = 0;
    for (size_t r = 0; r < reps && half; r++)
        for (size_t i = 0; i < half && len < sizeof stream; i++) stream[len++] = (uint8_t)(in.p[i] ^ r);
    fake.script = Bytes{in.p + half, in.left() - half};
    fake.in = stream;
    fake.in_len = len;
    fake.in_off = fake.out_len = 0;
    fake.dead = false;
    fake.calls = 0;

    ServerStats st;
    Pending p{};
    char io_buf[16384];  // srv_epoll's read size
    bool failed = false, peer_done = false;
    for (int turn = 0; turn < 100000 && !failed; turn++) {
        // writable: flush; then readable: read while there is room
        if (p.len && !pending_flush(kFakeFd, &p, &st)) failed = true;
        FUZZ_CHECK(p.len <= kPendCap && (p.len || !p.buf || failed), "queue holds %u, buffer %p",
                   p.len, (void *)p.buf);
        if (failed) break;
        if (peer_done) {
            if (!p.len) break;
            if (!fake.script.left()) fake.script = Bytes{(const uint8_t *)"\xf8", 1};  // drains
            continue;
        }
        size_t room = pending_room(p, sizeof io_buf);
        if (!room) continue;
        ssize_t n = recv_echo(kFakeFd, &p, io_buf, room, &st);
        if (n == 0) peer_done = true;
        else if (n < 0 && errno != EAGAIN && errno != EINTR) failed = true;
        if (!fake.script.left() && !fake.dead) fake.script = Bytes{(const uint8_t *)"\xf8", 1};
    }
    FUZZ_CHECK(fake.out_len <= fake.in_off && !memcmp(fake.out, fake.in, fake.out_len),
               "the %zu bytes sent are not the first of the %zu received", fake.out_len, fake.in_off);
    FUZZ_CHECK(st.n[C_BYTES_ECHOED] == fake.out_len, "bytes_echoed %llu, sent %zu",
               (unsigned long long)st.n[C_BYTES_ECHOED], fake.out_len);
    if (failed) {
        FUZZ_CHECK(fake.dead && st.n[C_RESET] == 1 && st.n[C_IO_ERROR] == 0,
                   "a failure: reset %llu, io_error %llu", (unsigned long long)st.n[C_RESET],
                   (unsigned long long)st.n[C_IO_ERROR]);
    } else {
        FUZZ_CHECK(peer_done && fake.out_len == fake.in_len && !p.len,
                   "sent %zu of %zu bytes, %u still queued", fake.out_len, fake.in_len, p.len);
        FUZZ_CHECK(!st.n[C_RESET] && !st.n[C_IO_ERROR], "no failure, yet one counted");
    }
    pending_free(&p);
    return 0;
}
