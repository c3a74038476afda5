// Held runs (-d): -c connections are opened first (at --connect-rate), then kept.
// Closed loop, each sends the next request when the echo of the last arrives. Open
// loop (-R), request k of the run is due at start + k/RATE and belongs to connection
// k % c; a connection still waiting for an echo when its next request falls due
// owes it and sends it the moment the echo arrives. Latency counts from the due
// time, so a stalled server cannot hide its stall by slowing the client down
// (coordinated omission, as wrk2 describes it); the service time, from the send,
// is what a closed-loop tool would have reported.
//
// The connection is a unit of the result, like the request: one that could not be
// opened, or that the peer closed, reset or timed out before the run closed it,
// idle or busy, is lost by its cause.
#include <cerrno>
#include <cstdlib>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "../common/clock.h"
#include "../common/util.h"
#include "flood_loop.h"

namespace {

// Request k is due at k/RATE, rounded up to the --batch grid: the loop wakes once a
// batch, not once a request (on a VM a wakeup costs more than the request), and the
// number due by any grid point stays RATE times its time. Latency counts from the
// rounded time, so the batching neither adds to it nor hides a late send.
uint64_t due_of(uint64_t k) {
    uint64_t t = (uint64_t)((unsigned __int128)k * kSec / (uint64_t)run.opt->rate);
    uint64_t grid = (uint64_t)run.opt->batch_us * 1000;
    if (grid) t = (t + grid - 1) / grid * grid;
    return run.t_run + t;
}

// Each source port is named here: this worker's share of the range, every
// worker_count-th port, one after another per source. Left to the kernel, connect()
// searches the 4-tuples in use, which takes longer the fuller a source is (200,000
// connections over 12 sources: 127 s to connect, 8.2 s with ports named). One-shot
// runs reuse ports under TIME_WAIT and leave the choice to the kernel.
int held_connect(uint32_t) {
    static uint32_t next_source;
    const Options &o = *run.opt;
    if (!o.nsources) return connect_nb(o.target);
    int src = (int)(next_source++ % (uint32_t)o.nsources);
    int stride = o.worker_count, span = o.port_hi - o.port_lo + 1;
    for (int tries = 0; tries < 8; tries++) {
        long k = (long)run.next_port[src]++ * stride + o.worker_index;
        if (!o.port_lo || k >= span) break;
        Endpoint e = o.sources[src];
        uint16_t port = htons((uint16_t)(o.port_lo + k));
        if (e.ss.ss_family == AF_INET6) ((sockaddr_in6 *)&e.ss)->sin6_port = port;
        else ((sockaddr_in *)&e.ss)->sin_port = port;
        int fd = connect_nb(o.target, &e);
        // Taken by someone else, or in TIME_WAIT the kernel will not give back yet.
        if (fd >= 0 || (errno != EADDRINUSE && errno != EADDRNOTAVAIL)) return fd;
    }
    return connect_nb(o.target, &o.sources[src]);  // this worker's ports are used up
}

// s is null when the connection never got a slot.
void held_lost(const Slot *s, uint32_t idx, uint64_t, Failure why) {
    Report *r = run.rep;
    bool connecting = !s || s->state == S_CONNECTING;
    // Closed loop: the request in flight, or the first one it never sent. Open loop:
    // the one in flight, those owed, and (in schedule()) those to come.
    uint64_t lost = s ? (s->state == S_WAIT_ECHO) + s->owed : 0;
    if (!run.opt->rate && connecting) lost = 1;
    fail_requests(why, lost);
    run.dead_why[idx] = (uint8_t)why;
    run.fd_of[idx] = -1;
    if (connecting) {
        r->connect_failed++;
        r->connect_failures[why]++;
        run.settled++;
    } else {
        r->dropped++;
        r->drops[why]++;
        run.connected--;
    }
}

void held_connected(int fd, Slot &s, uint32_t e) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err) {
        close_slot(fd, classify(err, true), false);
        return;
    }
    s.state = S_IDLE;
    run.fd_of[s.idx] = fd;
    run.connected++;
    run.settled++;
    run.rep->connections++;
    // A peer that accepts and closes at once (a server out of descriptors) may have
    // its FIN in this same edge-triggered event: look at it now or never.
    if (e & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) on_readable(fd, s, e);
}

// Send lag is how late the send was against the moment it could have gone had the
// client never been late: its release time, or, if its connection's previous
// request would still have been in flight then, that request's ideal send time
// plus the time the server took over it. A slow server delays the sends too, but
// that is in the latency; a client that woke late, or was stopped, is here.
void send_owed(int fd, Slot &s) {
    uint64_t k = (uint64_t)s.next_n++ * (uint64_t)run.opt->concurrency + s.idx;
    s.owed--;
    run.owed_total--;
    s.counted = k >= run.k_begin && k < run.k_end;
    uint64_t due = due_of(k), now = mono_ns();
    uint64_t free_at = s.ready_ns ? s.ready_ns + (s.echoed_ns - s.sent_ns) : 0;
    uint64_t ready = due > free_at ? due : free_at;
    if (s.counted) run.rep->send_lag.add(now > ready ? now - ready : 0);
    send_request(fd, s, due);
    s.ready_ns = ready;
}

void held_echoed(int fd, Slot &s, uint64_t now) {
    Report *r = run.rep;
    bool paced = run.opt->rate;
    if (!paced) s.counted = now >= run.w_begin && now < run.w_end;
    if (s.counted) {
        r->succeeded++;
        r->latency.add(now - s.due_ns);
        if (paced) r->service.add(now - s.sent_ns);
    }
    if (paced) {
        s.echoed_ns = now;
        if (s.owed) send_owed(fd, s);
    } else if (now < run.w_end) {
        send_request(fd, s, 0);
    }
}

// -R: hands every request now due to its connection.
void schedule(uint64_t now) {
    long long c = run.opt->concurrency;
    for (; run.next_k < run.k_end && due_of(run.next_k) <= now; run.next_k++) {
        uint32_t j = (uint32_t)(run.next_k % (uint64_t)c);
        int fd = run.fd_of[j];
        if (fd < 0) {  // its connection failed: the request cannot be offered
            fail_requests((Failure)run.dead_why[j], 1);
            continue;
        }
        Slot &s = run.slots[fd];
        s.owed++;
        run.owed_total++;
        if (s.state == S_IDLE) send_owed(fd, s);
    }
}

// Connections are all up (or failed): start the traffic and the clocks.
void start_traffic(uint64_t now) {
    const Options &o = *run.opt;
    run.traffic = true;
    run.rep->connect_s = (double)(now - run.start) / 1e9;
    run.t_run = now;
    run.w_begin = now + (uint64_t)o.warmup_s * kSec;
    run.w_end = run.w_begin + (uint64_t)o.duration_s * kSec;
    if (o.rate) {
        run.k_begin = (uint64_t)(o.warmup_s * o.rate);
        run.k_end = (uint64_t)((o.warmup_s + o.duration_s) * o.rate);
        return;
    }
    for (long long j = 0; j < o.concurrency; j++)
        if (run.fd_of[j] >= 0) send_request(run.fd_of[j], run.slots[run.fd_of[j]], 0);
}

// Opens what --connect-rate allows by now; returns when the loop must wake next.
uint64_t ramp(uint64_t now, uint64_t wake) {
    const Options &o = *run.opt;
    long long allowed = o.concurrency;
    if (o.connect_rate) {
        allowed = (long long)((now - run.start) * (unsigned __int128)o.connect_rate / kSec) + 1;
        if (allowed > o.concurrency) allowed = o.concurrency;
        uint64_t next = run.start + (uint64_t)((unsigned __int128)allowed * kSec / (uint64_t)o.connect_rate);
        if (allowed < o.concurrency && next < wake) wake = next;
    }
    for (int opened = 0; run.launched < allowed; opened++) {
        if (opened == kOpensPerTurn) return now;  // more are due: only look at what is ready
        run.launched++;
        open_slot(now, 0, (uint32_t)(run.launched - 1));
    }
    return wake;
}

}  // namespace

long long connect_burst(const Options &o) {
    if (!o.connect_rate) return o.concurrency;
    auto share = [&](long long v) { return (v + o.workers - 1) / o.workers; };  // the largest
    long long per_turn = (share(o.connect_rate) + 999) / 1000;  // due within 1 ms
    if (per_turn > kOpensPerTurn) per_turn = kOpensPerTurn;
    if (per_turn > share(o.concurrency)) per_turn = share(o.concurrency);
    long long burst = per_turn * o.workers;
    return burst < o.concurrency ? burst : o.concurrency;
}

namespace {

// Fills in the report once the loop has ended at `end`.
void finish(uint64_t end) {
    const Options &o = *run.opt;
    Report *r = run.rep;
    r->wall_s = (double)(end - run.start) / 1e9;
    // What is still open: interrupted, or past the window's end.
    for (int fd = 0; fd <= run.max_slot_fd; fd++)
        if (run.slots[fd].state != S_FREE) close_slot(fd, F_INTERRUPTED, !g_stop);
    if (o.rate && run.traffic && run.next_k < run.k_end) {  // the rest was never offered
        if (g_stop) fail_requests(F_INTERRUPTED, run.k_end - run.next_k);
        else schedule(UINT64_MAX);  // all connections failed: each request by its cause
    }
    r->held = true;
    r->per_conn = 0;
    r->requests = (long long)(r->succeeded + r->failed);
    r->duration_s = (double)o.duration_s;
    r->warmup_s = (double)o.warmup_s;
    if (!run.traffic) r->connect_s = r->wall_s;
    // The window actually measured: shorter only if the run was interrupted.
    double window = (double)o.duration_s;
    if (g_stop && end < run.w_end) window = end > run.w_begin ? (double)(end - run.w_begin) / 1e9 : 0;
    if (!run.traffic) window = 0;
    r->requests_per_s = window > 0 ? (double)r->succeeded / window : 0;
    r->connections_per_s = r->connect_s > 0 ? (double)r->connections / r->connect_s : 0;
}

}  // namespace

void warn_send_lag(const Report &r, long long rate, long long concurrency) {
    if (!rate || !r.send_lag.count()) return;
    double p99_ms = (double)r.send_lag.quantile(0.99) / 1e6;
    double gap_ms = 1000.0 * (double)concurrency / (double)rate;  // one connection's requests
    if (p99_ms > 1.0 || p99_ms > gap_ms / 10)
        warn_msg("warning: the client could not keep the schedule: p99 send lag %.3f ms, over "
                 "1 ms or a tenth of the %.3f ms between one connection's requests; the figures "
                 "are bound by the client, not the server: lower -R or -c, or add workers (-w)",
                 p99_ms, gap_ms);
}

const Mode kHeldMode = {held_connect, held_lost, held_connected, held_echoed};

void run_held() {
    const Options &o = *run.opt;
    run.fd_of = (int *)malloc((size_t)o.concurrency * sizeof *run.fd_of);
    run.dead_why = (uint8_t *)calloc((size_t)o.concurrency, 1);
    run.next_port = (uint32_t *)calloc((size_t)o.nsources + 1, sizeof *run.next_port);
    if (!run.fd_of || !run.dead_why || !run.next_port) die_errno(EXIT_RUNTIME, "setting up");
    for (long long j = 0; j < o.concurrency; j++) run.fd_of[j] = -1;
    while (!stop_requested()) {
        uint64_t now = mono_ns();
        uint64_t wake = now + kSec / 10;  // timeouts are checked every 100 ms
        if (!run.traffic) {
            wake = ramp(now, wake);
            if (run.settled == o.concurrency) {
                start_traffic(now);
                if (run.connected == 0) break;
            }
        }
        if (run.traffic) {
            if (o.rate) {
                schedule(now);
                if (run.next_k >= run.k_end && run.in_flight == 0 && run.owed_total == 0) break;
                if (run.next_k < run.k_end && due_of(run.next_k) < wake) wake = due_of(run.next_k);
            } else {
                if (now >= run.w_end) break;
                if (run.w_end < wake) wake = run.w_end;
            }
            if (run.connected == 0) break;  // every connection failed
        }
        loop_turn(now, wake);
    }
    finish(mono_ns());
}
