// cli_flood's event loop: one process, one epoll set, per-connection state in a flat
// array indexed by fd. This file has the mechanics every run shares (open, send,
// read, close, expire) and the one-shot runs; flood_held.cpp has the held ones.
//
// One-shot runs (the original experiment): each connection sends its CLOCK_MONOTONIC
// time as a line, waits for the same bytes back, and either sends the next request
// (-r) or closes and makes room for a new one.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/util.h"
#include "flood_loop.h"

Run run;

namespace {

constexpr int kMaxEvents = 1024;
void on_event(int fd, uint32_t e);

}  // namespace

ssize_t request_send(int fd, const Request &q, uint32_t off, int flags) {
    iovec iov[2];
    msghdr m = {};
    m.msg_iov = iov;
    m.msg_iovlen = (size_t)request_pieces(q, off, iov);
    return sendmsg(fd, &m, flags | MSG_NOSIGNAL);
}

void fail_requests(Failure why, uint64_t n) {
    run.rep->failures[why] += n;
    run.rep->failed += n;
}

bool reply_counted(const Slot &s) {
    uint16_t st = s.http.status;
    if (g_proto == P_HTTP && st >= 200 && st < 600) run.rep->http_classes[st / 100 - 2]++;
    return g_proto != P_HTTP || status_ok(st);
}

void close_slot(int fd, Failure why, bool ok) {
    Slot &s = run.slots[fd];
    if (!ok) run.mode->lost(&s, s.idx, s.quota - s.done, why);
    if (s.state == S_WAIT_ECHO) run.in_flight--;
    run.owed_total -= s.owed;
    s.state = S_FREE;
    close(fd);  // closing drops it from the epoll set
    run.open_conns--;
}

// run.next_deadline is a lower bound on every live deadline: expire() scans only past it.
static void lower_next_deadline(uint64_t t) {
    if (t < run.next_deadline) run.next_deadline = t;
}

static void set_deadline(Slot &s, uint64_t t) {
    s.deadline_ns = t;
    lower_next_deadline(t);
}

bool send_request(int fd, Slot &s, uint64_t due) {
    State was = s.state;
    s.sent_ns = mono_ns();
    s.due_ns = due ? due : s.sent_ns;
    set_deadline(s, s.sent_ns + run.timeout_ns);
    request_make(s.sent_ns, &s.req);
    s.tx_off = 0;
    s.rx_off = 0;
    s.http = HttpReply{};
    s.state = S_WAIT_ECHO;
    run.in_flight++;
    return send_more(fd, s, was == S_CONNECTING);
}

bool send_more(int fd, Slot &s, bool connecting) {
    while (s.tx_off < s.req.len) {
        ssize_t n = request_send(fd, s.req, s.tx_off, 0);
        if (n < 0) {
            if (errno == EAGAIN) return true;  // EPOLLOUT resumes it
            if (errno == EINTR) continue;
            int e = errno;
            close_slot(fd, classify(e, connecting), false);
            return false;
        }
        s.tx_off += (uint32_t)n;
        run.rep->bytes_sent += (uint64_t)n;
    }
    return true;
}

int open_slot(uint64_t now, uint64_t quota, uint32_t idx) {
    int fd = run.mode->connect(idx);
    Failure why = F_NO_FDS;
    if (fd >= run.max_fds) {  // cannot happen with the preflight check; keep the array safe
        close(fd);
        fd = -1;
    } else if (fd < 0) {
        why = classify(errno, true);
        static bool warned;
        if (why == F_NO_PORTS && !warned) {
            warned = true;
            warn_errno("connect %s: local ports used up (TIME_WAIT holds them for 60 s); add source "
                  "addresses with -s 127.0.0.2-127.0.0.20, or wait", run.rep->target);
        }
    } else {
        set_nodelay(fd);
        epoll_event ev = {};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.fd = fd;
        if (epoll_ctl(run.ep_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            why = classify(errno, true);
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0) {
        run.mode->lost(nullptr, idx, quota, why);
        return -1;
    }
    Slot &s = run.slots[fd];
    s = Slot{};
    s.quota = (uint32_t)quota;
    s.idx = idx;
    s.state = S_CONNECTING;
    set_deadline(s, now + run.timeout_ns);
    if (fd > run.max_slot_fd) run.max_slot_fd = fd;
    if ((uint64_t)++run.open_conns > run.rep->peak_open) run.rep->peak_open = (uint64_t)run.open_conns;
    return fd;
}

void on_readable(int fd, Slot &s, uint32_t e) {
    bool was_idle = s.state == S_IDLE;
    while (s.state == S_WAIT_ECHO) {
        static char buf[64 * 1024];  // checked as it comes: no buffer per connection
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EAGAIN) return;
            if (errno == EINTR) continue;
            close_slot(fd, classify(errno, false), false);
            return;
        }
        if (n == 0) {
            close_slot(fd, F_CLOSED_EARLY, false);
            return;
        }
        run.rep->bytes_received += (uint64_t)n;
        Verdict v = reply_feed(&s.http, &s.rx_off, s.req, s.tx_off, buf, (size_t)n);
        if (v == V_BAD) {
            close_slot(fd, F_MISMATCH, false);
            return;
        }
        if (v == V_MORE) continue;
        run.in_flight--;
        run.echoes++;
        s.state = S_IDLE;
        run.mode->echoed(fd, s, mono_ns());
        // The next echo cannot be here yet, and its arrival raises a new edge: a read
        // now would only return EAGAIN.
        return;
    }
    // Idle: anything readable now is a close, an error or a stray byte. Right after
    // an echo, read again only if the event said the peer closed.
    if (s.state == S_IDLE && (was_idle || (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))) {
        char b;
        ssize_t n = recv(fd, &b, 1, 0);
        if (n == 0) close_slot(fd, F_CLOSED_EARLY, false);
        else if (n > 0) close_slot(fd, F_MISMATCH, false);
        else if (errno != EAGAIN && errno != EINTR) close_slot(fd, classify(errno, false), false);
    }
}

namespace {

void on_event(int fd, uint32_t e) {
    Slot &s = run.slots[fd];
    if (s.state == S_FREE) return;  // stale event of a slot closed in this batch
    if (s.state == S_CONNECTING) {
        if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) run.mode->connected(fd, s, e);
        return;
    }
    if (s.state == S_WAIT_ECHO && s.tx_off < s.req.len && (e & EPOLLOUT) && !send_more(fd, s, false))
        return;
    if (e & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) on_readable(fd, s, e);
}

void expire(uint64_t now) {
    if (now < run.next_deadline) return;
    // Rebuilt by this scan; deadlines set meanwhile (by on_event) lower it too.
    run.next_deadline = UINT64_MAX;
    for (int fd = 0; fd <= run.max_slot_fd; fd++) {
        Slot &s = run.slots[fd];
        if (s.state != S_CONNECTING && s.state != S_WAIT_ECHO) continue;
        if (now < s.deadline_ns) {
            lower_next_deadline(s.deadline_ns);
            continue;
        }
        if (s.state == S_CONNECTING) {
            // Its event may still be waiting its turn in a busy client: ask the socket.
            // (poll's bits are epoll's on Linux.)
            pollfd p = {fd, POLLOUT | POLLIN | POLLRDHUP, 0};
            if (poll(&p, 1, 0) == 1) {
                on_event(fd, (uint32_t)p.revents);
                // Still connecting (or a request out, deadline behind): look again next time.
                bool live = s.state == S_CONNECTING || s.state == S_WAIT_ECHO;
                if (live) lower_next_deadline(s.deadline_ns);
                continue;
            }
        }
        close_slot(fd, s.state == S_CONNECTING ? F_CONNECT_TIMEOUT : F_READ_TIMEOUT, false);
    }
}

void progress(uint64_t now) {
    static uint64_t last_echoes;
    fprintf(stderr, "\rcli_flood: %3.0f s  connected %lld  in flight %lld  done %llu  errors %llu"
            "  rate %llu/s\033[K", (double)(now - run.start) / 1e9,
            run.opt->duration_s ? run.connected : run.open_conns, run.in_flight + run.owed_total,
            (unsigned long long)run.echoes, (unsigned long long)run.rep->failed,
            (unsigned long long)(run.echoes - last_echoes));
    last_echoes = run.echoes;
}

int wait_events(epoll_event *events, uint64_t now, uint64_t wake) {
    uint64_t wait_ns = wake > now ? wake - now : 0;
    timespec ts = {(time_t)(wait_ns / kSec), (long)(wait_ns % kSec)};
    static bool no_pwait2;
    if (!no_pwait2) {
        int n = epoll_pwait2(run.ep_fd, events, kMaxEvents, &ts, &run.wait_mask);
        if (n >= 0 || errno != ENOSYS) return n;
        no_pwait2 = true;  // kernel before 5.11: millisecond timeouts, rounded up
    }
    return epoll_pwait(run.ep_fd, events, kMaxEvents, (int)((wait_ns + 999999) / 1000000),
                       &run.wait_mask);
}

// One-shot runs.

int oneshot_connect(uint32_t) {
    static uint32_t next_source;
    const Options &o = *run.opt;
    const Endpoint *src = o.nsources ? &o.sources[next_source++ % (uint32_t)o.nsources] : nullptr;
    int fd = connect_nb(o.target, src);
    if (fd >= 0) run.rep->connections++;
    return fd;
}

void oneshot_lost(const Slot *, uint32_t, uint64_t quota, Failure why) { fail_requests(why, quota); }

void oneshot_connected(int fd, Slot &s, uint32_t e) {
    // No getsockopt(SO_ERROR): a failed connect makes this write fail with its errno.
    if (send_request(fd, s, 0) && (e & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)))
        on_readable(fd, s, e);
}

void oneshot_echoed(int fd, Slot &s, uint64_t now) {
    // A 404 is an answer, not a broken connection: the next request may still go.
    if (!reply_counted(s)) {
        fail_requests(F_HTTP_STATUS, 1);
    } else {
        run.rep->latency.add(now - s.sent_ns);
        run.rep->succeeded++;
    }
    if (++s.done == s.quota) close_slot(fd, F_OTHER, true);
    else if (reply_closes(s)) close_slot(fd, F_CLOSED_EARLY, false);
    else send_request(fd, s, 0);
}

const Mode kOneshotMode = {oneshot_connect, oneshot_lost, oneshot_connected, oneshot_echoed};

void run_oneshot() {
    const Options &o = *run.opt;
    run.unassigned = o.requests;
    while (!stop_requested()) {
        uint64_t now = mono_ns();
        // Open the whole -c at once, as the experiment asks: all in flight together.
        while (run.unassigned > 0 && run.open_conns < o.concurrency) {
            long long quota = run.unassigned < o.per_conn ? run.unassigned : o.per_conn;
            run.unassigned -= quota;
            open_slot(now, (uint64_t)quota, 0);
        }
        if (run.unassigned == 0 && run.open_conns == 0) break;
        loop_turn(now, now + kSec / 10);  // timeouts are checked every 100 ms
    }
    Report *r = run.rep;
    r->wall_s = (double)(mono_ns() - run.start) / 1e9;
    for (int fd = 0; fd <= run.max_slot_fd; fd++)
        if (run.slots[fd].state != S_FREE) close_slot(fd, F_INTERRUPTED, !g_stop);
    if (g_stop) fail_requests(F_INTERRUPTED, (uint64_t)run.unassigned);
    r->requests = o.requests;
    r->per_conn = o.per_conn;
    r->requests_per_s = r->wall_s > 0 ? (double)r->succeeded / r->wall_s : 0;
    r->connections_per_s = r->wall_s > 0 ? (double)r->connections / r->wall_s : 0;
}

}  // namespace

void loop_turn(uint64_t now, uint64_t wake) {
    static epoll_event events[kMaxEvents];
    int n = wait_events(events, now, wake);
    if (n < 0 && errno != EINTR) die_errno(EXIT_RUNTIME, "epoll_wait");
    for (int i = 0; i < n; i++) on_event(events[i].data.fd, events[i].events);
    now = mono_ns();
    if (now - run.last_expire >= kSec / 10) {
        run.last_expire = now;
        expire(now);
    }
    if (run.opt->progress && now - run.last_progress >= kSec) {
        run.last_progress = now;
        progress(now);
    }
    if (interval_due(now)) interval_record(*run.rep, now);
}

void run_events(const Options &o, Report *r) {
    bool held = o.duration_s > 0;
    run.opt = &o;
    run.rep = r;
    run.mode = held ? &kHeldMode : &kOneshotMode;
    run.max_slot_fd = -1;
    run.timeout_ns = (uint64_t)o.timeout_s * kSec;
    run.max_fds = raise_fd_limit();
    setup_signals(&run.wait_mask);
    run.slots = (Slot *)calloc((size_t)run.max_fds, sizeof *run.slots);
    run.ep_fd = epoll_create1(EPOLL_CLOEXEC);
    if (!run.slots || run.ep_fd < 0) die_errno(EXIT_RUNTIME, "setting up");
    r->concurrency = o.concurrency;
    r->rate = o.rate;
    r->request_bytes = o.request_bytes;
    r->protocol = g_proto;
    if (g_proto != P_ECHO) sent_text(r->sent, sizeof r->sent);
    run.start = run.last_expire = run.last_progress = mono_ns();
    if (held) run_held();
    else run_oneshot();
    if (o.progress) fprintf(stderr, "\r\033[K");
}
