// cli_flood --blocking N: the client the original experiment tried first. N worker
// processes, each doing one connect-send-receive-close at a time on a blocking
// socket, so there are never more than N connections open: N processes is what
// 10,000 simultaneous connections would cost this way.
//
// Workers take connections from a shared counter and write their histogram and
// counters into their own slot of a shared anonymous mapping; the parent merges them.
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <ctime>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/util.h"
#include "flood.h"
#include "flood_proto.h"

namespace {

struct Shared {
    long long next_conn;         // connections handed out
    long long open, peak_open;
};

struct WorkerOut {
    Histogram latency;
    uint64_t succeeded, failed, failures[F_COUNT], connections;
    uint64_t bytes_sent, bytes_received;
    uint64_t http_classes[4];
};

void fail(WorkerOut *w, Failure why, uint64_t n) {
    w->failures[why] += n;
    w->failed += n;
}

// One request on a connected socket; F_COUNT when it succeeded. A request the
// socket buffers take whole is written, then its echo read, both blocking; a larger
// one is sent as the socket takes it while its echo is read, or both sides would
// wait on full buffers (the servers stop reading past 64 KiB unsent).
Failure exchange(int fd, int timeout_ms, WorkerOut *w, bool *closes) {
    static char buf[64 * 1024];
    uint64_t sent_at = mono_ns();
    Request q;
    request_make(sent_at, &q);
    uint32_t sent = 0, rx = 0;
    HttpReply h = {};
    for (;;) {
        bool moved = false;
        if (sent < q.len) {
            ssize_t n = request_send(fd, q, sent, MSG_DONTWAIT);
            if (n > 0) {
                sent += (uint32_t)n;
                w->bytes_sent += (uint64_t)n;
                moved = true;
            } else if (errno != EAGAIN && errno != EINTR) {
                return g_stop ? F_INTERRUPTED : classify(errno, false);
            }
        }
        // All sent: wait in recv (SO_RCVTIMEO bounds it). Else only take what is there.
        ssize_t n = recv(fd, buf, sizeof buf, sent < q.len ? MSG_DONTWAIT : 0);
        if (n == 0) return F_CLOSED_EARLY;
        if (n > 0) {
            w->bytes_received += (uint64_t)n;
            Verdict v = reply_feed(&h, &rx, q, sent, buf, (size_t)n);
            if (v == V_BAD) return F_MISMATCH;
            if (v == V_DONE) break;
            continue;
        }
        if (g_stop) return F_INTERRUPTED;
        if (errno == EINTR) continue;
        if (errno != EAGAIN || sent == q.len) return classify(errno, false);
        if (moved) continue;
        pollfd p = {fd, POLLIN | POLLOUT, 0};
        int r = poll(&p, 1, timeout_ms);
        if (r == 0) return F_READ_TIMEOUT;
        if (r < 0 && errno != EINTR) return classify(errno, false);
    }
    *closes = g_proto == P_HTTP && http_closes(h);
    if (g_proto == P_HTTP && h.status >= 200 && h.status < 600) w->http_classes[h.status / 100 - 2]++;
    if (!status_ok(h.status)) {
        fail(w, F_HTTP_STATUS, 1);  // an answer: the connection carries on
        return F_COUNT;
    }
    w->latency.add(mono_ns() - sent_at);
    w->succeeded++;
    return F_COUNT;
}

void worker(const Options &o, Shared *sh, WorkerOut *w, long long conns) {
    w->latency = Histogram{};  // the mapping is zeroed, but min starts at UINT64_MAX
    timeval tv = {(time_t)o.timeout_s, 0};
    for (;;) {
        long long i = __atomic_fetch_add(&sh->next_conn, 1, __ATOMIC_RELAXED);
        if (i >= conns) return;
        long long left = o.requests - i * o.per_conn;
        uint64_t quota = (uint64_t)(left < o.per_conn ? left : o.per_conn);
        if (g_stop) {
            fail(w, F_INTERRUPTED, quota);
            continue;
        }
        int fd = socket(o.target.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            fail(w, classify(errno, true), quota);
            continue;
        }
        // SO_SNDTIMEO bounds connect() too; it then fails with EINPROGRESS.
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        set_nodelay(fd);
        if (connect(fd, (const sockaddr *)&o.target.ss, o.target.len) != 0) {
            fail(w, g_stop ? F_INTERRUPTED : classify(errno, true), quota);
            close(fd);
            continue;
        }
        w->connections++;
        long long open = __atomic_add_fetch(&sh->open, 1, __ATOMIC_RELAXED);
        long long peak = __atomic_load_n(&sh->peak_open, __ATOMIC_RELAXED);
        while (open > peak && !__atomic_compare_exchange_n(&sh->peak_open, &peak, open, true,
                                                            __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        }
        for (uint64_t k = 0; k < quota; k++) {
            bool closes = false;
            Failure f = exchange(fd, (int)o.timeout_s * 1000, w, &closes);
            if (f != F_COUNT) {
                fail(w, f, quota - k);
                break;
            }
            if (closes && k + 1 < quota) {  // the server ends the connection after this reply
                fail(w, F_CLOSED_EARLY, quota - k - 1);
                break;
            }
        }
        __atomic_sub_fetch(&sh->open, 1, __ATOMIC_RELAXED);
        close(fd);
    }
}

// The workers' figures added into r, which starts from nothing.
Report *sum_outs(const WorkerOut *outs, long long n, Report *r) {
    r->latency = Histogram{};
    r->succeeded = r->failed = r->connections = r->bytes_sent = r->bytes_received = 0;
    for (int f = 0; f < F_COUNT; f++) r->failures[f] = 0;
    for (uint64_t &c : r->http_classes) c = 0;
    for (long long i = 0; i < n; i++) {
        const WorkerOut &w = outs[i];
        r->latency.merge(w.latency);
        r->succeeded += w.succeeded;
        r->failed += w.failed;
        for (int f = 0; f < F_COUNT; f++) r->failures[f] += w.failures[f];
        r->connections += w.connections;
        r->bytes_sent += w.bytes_sent;
        r->bytes_received += w.bytes_received;
        for (int c = 0; c < 4; c++) r->http_classes[c] += w.http_classes[c];
    }
    return r;
}

}  // namespace

void run_blocking(const Options &o, Report *r) {
    long long n = o.blocking;
    long long conns = (o.requests + o.per_conn - 1) / o.per_conn;
    if (n > conns) n = conns;
    size_t size = sizeof(Shared) + (size_t)n * sizeof(WorkerOut);
    // Zeroed, shared with the children; pages are touched only as workers write.
    void *map = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) die_errno(EXIT_RUNTIME, "mmap %zu bytes for %lld workers", size, n);
    Shared *sh = (Shared *)map;
    WorkerOut *outs = (WorkerOut *)(sh + 1);
    sigset_t wait_mask;
    setup_signals(&wait_mask);
    fflush(stdout);
    pid_t *pids = (pid_t *)calloc((size_t)n, sizeof *pids);
    if (!pids) die_errno(EXIT_RUNTIME, "calloc");
    uint64_t start = mono_ns();
    long long started = 0;
    for (; started < n && !g_stop; started++) {
        pid_t pid = fork();
        if (pid < 0) {
            warn_errno("fork (running with %lld workers; raise ulimit -u for more)", started);
            break;
        }
        if (pid == 0) {
            // Blocking calls must see SIGINT/SIGTERM: they return EINTR (no SA_RESTART).
            sigprocmask(SIG_SETMASK, &wait_mask, nullptr);
            worker(o, sh, &outs[started], conns);
            _exit(0);
        }
        pids[started] = pid;
    }
    // Signals reach the parent while it waits; it passes a stop on to the workers.
    sigprocmask(SIG_SETMASK, &wait_mask, nullptr);
    bool forwarded = false;
    uint64_t last_progress = mono_ns(), last_done = 0;
    for (long long done = 0; done < started;) {
        if (g_stop && !forwarded) {
            for (long long i = 0; i < started; i++) kill(pids[i], SIGTERM);
            forwarded = true;
        }
        int status;
        // With a progress line to draw, poll the workers' counters every 50 ms.
        pid_t pid = waitpid(-1, &status, o.progress || o.interval_s ? WNOHANG : 0);
        if (pid == 0) {
            timespec nap = {0, 50000000};
            nanosleep(&nap, nullptr);
            uint64_t now = mono_ns();
            if (interval_due(now)) interval_record(*sum_outs(outs, started, r), now);
            if (!o.progress) continue;
            if (now - last_progress < 1000000000u) continue;
            last_progress = now;
            uint64_t ok = 0, failed = 0;
            for (long long i = 0; i < started; i++) ok += outs[i].succeeded, failed += outs[i].failed;
            fprintf(stderr, "\rcli_flood: %3.0f s  connected %lld  in flight %lld  done %llu  "
                    "errors %llu  rate %llu/s\033[K", (double)(now - start) / 1e9,
                    __atomic_load_n(&sh->open, __ATOMIC_RELAXED), started - done,
                    (unsigned long long)ok, (unsigned long long)failed,
                    (unsigned long long)(ok - last_done));
            last_done = ok;
        } else if (pid > 0) {
            done++;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                warn_msg("a worker ended abnormally (status %d); its requests are lost", status);
        } else if (errno != EINTR) {
            break;
        }
    }
    if (o.progress) fprintf(stderr, "\r\033[K");
    r->wall_s = (double)(mono_ns() - start) / 1e9;
    sum_outs(outs, started, r);
    // Connections no worker took (interrupted, or no worker could be started).
    long long taken = sh->next_conn < conns ? sh->next_conn : conns;
    if (taken < conns) {
        uint64_t left = (uint64_t)(o.requests - taken * o.per_conn);
        r->failures[g_stop ? F_INTERRUPTED : F_OTHER] += left;  // else: no worker to take them
        r->failed += left;
    }
    r->blocking = true;
    r->requests = o.requests;
    r->concurrency = n;
    r->request_bytes = o.request_bytes;
    r->protocol = g_proto;
    if (g_proto != P_ECHO) sent_text(r->sent, sizeof r->sent);
    r->per_conn = o.per_conn;
    r->peak_open = (uint64_t)sh->peak_open;
    r->requests_per_s = r->wall_s > 0 ? (double)r->succeeded / r->wall_s : 0;
    r->connections_per_s = r->wall_s > 0 ? (double)r->connections / r->wall_s : 0;
    free(pids);
    munmap(map, size);
}
