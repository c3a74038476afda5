// cli_flood's event loop: one process, one epoll set, per-connection state in a flat
// array indexed by fd.
//
// One-shot runs (the original experiment): each connection sends its CLOCK_MONOTONIC
// time as a line, waits for the same bytes back, and either sends the next request
// (-r) or closes and makes room for a new one.
//
// Held runs (-d): -c connections are opened first (at --connect-rate), then kept.
// Closed loop, each sends the next request when the echo of the last arrives. Open
// loop (-R), request k of the run is due at start + k/RATE and belongs to connection
// k % c; a connection still waiting for an echo when its next request falls due
// owes it and sends it the moment the echo arrives. Latency counts from the due
// time, so a stalled server cannot hide its stall by slowing the client down
// (coordinated omission, as wrk2 describes it); the service time, from the send,
// is what a closed-loop tool would have reported.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/util.h"
#include "flood.h"

namespace {

enum State : uint8_t { S_FREE, S_CONNECTING, S_IDLE, S_WAIT_ECHO };

struct Slot {
    uint64_t sent_ns, due_ns, deadline_ns;
    uint32_t quota, done;  // one-shot: requests this connection carries, and finished
    uint32_t idx;          // held: connection number, 0 .. c-1
    uint32_t next_n;       // -R: the next request this connection sends is its next_n-th
    uint32_t owed;         // -R: requests due and not yet sent
    bool counted;          // the request in flight falls in the measured window
    State state;
    uint8_t tx_off, tx_len, rx_len;
    char tx[24], rx[24];
};

constexpr uint64_t kSec = 1000000000u;
constexpr int kMaxEvents = 1024;
// Held runs open at most this many connections a loop turn, then read events: a
// client that opened faster than it read would time out connections the kernel
// had long established, and call its own lag a server's failure.
constexpr int kOpensPerTurn = 256;

const Options *opt;
Report *rep;
Slot *slots;
long max_fds;
int ep_fd, max_slot_fd = -1;
sigset_t wait_mask;
uint64_t timeout_ns;

long long unassigned;            // one-shot: requests not yet given to a connection
long long open_conns, in_flight;
uint64_t echoes;                 // every echo, warm-up included: for the progress line

bool held;
int *fd_of;                      // held: connection number -> fd, -1 once failed
uint8_t *dead_why;               // held: why that connection failed
long long launched, settled, connected;
uint64_t t_run, w_begin, w_end;  // start of the traffic, the measured window
uint64_t next_k, k_begin, k_end; // -R: next request to schedule, the window's requests
long long owed_total;

uint64_t due_of(uint64_t k) { return t_run + (uint64_t)((unsigned __int128)k * kSec / (uint64_t)opt->rate); }

void fail_requests(Failure why, uint64_t n) {
    rep->failures[why] += n;
    rep->failed += n;
}

// Held: connection idx is gone before the window ended; `connecting`: it never opened.
void lose_connection(uint32_t idx, Failure why, bool connecting) {
    dead_why[idx] = (uint8_t)why;
    fd_of[idx] = -1;
    if (connecting) {
        rep->connect_failed++;
        rep->connect_failures[why]++;
        settled++;
    } else {
        rep->dropped++;
        rep->drops[why]++;
    }
}

// The one close path. ok=false fails what the connection still carries.
void close_slot(int fd, Failure why, bool ok) {
    Slot &s = slots[fd];
    if (!ok) {
        if (!held) {
            fail_requests(why, s.quota - s.done);
        } else {
            // Closed loop: the request in flight, or the first one it never sent.
            // Open loop: the one in flight, those owed, and (in schedule()) those to come.
            uint64_t lost = s.state == S_WAIT_ECHO || (!opt->rate && s.state == S_CONNECTING);
            fail_requests(why, lost + s.owed);
            lose_connection(s.idx, why, s.state == S_CONNECTING);
        }
    }
    if (s.state == S_WAIT_ECHO) in_flight--;
    if (held && (s.state == S_IDLE || s.state == S_WAIT_ECHO)) connected--;
    owed_total -= s.owed;
    s.state = S_FREE;
    close(fd);  // closing drops it from the epoll set
    open_conns--;
}

bool send_request(int fd, Slot &s, uint64_t due) {
    State was = s.state;
    s.sent_ns = mono_ns();
    s.due_ns = due ? due : s.sent_ns;
    s.deadline_ns = s.sent_ns + timeout_ns;
    s.tx_len = (uint8_t)encode_ts(s.sent_ns, s.tx);
    s.tx_off = 0;
    s.rx_len = 0;
    s.state = S_WAIT_ECHO;
    in_flight++;
    ssize_t n = send(fd, s.tx, s.tx_len, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN) return true;  // EPOLLOUT will retry
        int e = errno;
        close_slot(fd, classify(e, was == S_CONNECTING), false);
        return false;
    }
    s.tx_off = (uint8_t)n;
    return true;
}

void send_owed(int fd, Slot &s) {
    uint64_t k = (uint64_t)s.next_n++ * (uint64_t)opt->concurrency + s.idx;
    s.owed--;
    owed_total--;
    s.counted = k >= k_begin && k < k_end;
    send_request(fd, s, due_of(k));
}

// Held runs name each source port themselves: this worker's share of the range,
// every worker_count-th port, one after another per source. Left to the kernel,
// connect() searches the 4-tuples in use, which takes longer the fuller a source
// is (200,000 connections over 12 sources: 127 s to connect against 13.5 s over
// 60). One-shot runs reuse ports under TIME_WAIT and leave the choice to it.
uint32_t *next_port;  // per source: how many of this worker's ports it has used

int connect_held(const Endpoint &src_addr, int src) {
    int stride = opt->worker_count, span = opt->port_hi - opt->port_lo + 1;
    for (int tries = 0; tries < 8; tries++) {
        long k = (long)next_port[src]++ * stride + opt->worker_index;
        if (!opt->port_lo || k >= span) break;
        Endpoint e = src_addr;
        uint16_t port = htons((uint16_t)(opt->port_lo + k));
        if (e.ss.ss_family == AF_INET6) ((sockaddr_in6 *)&e.ss)->sin6_port = port;
        else ((sockaddr_in *)&e.ss)->sin_port = port;
        int fd = connect_nb(opt->target, &e);
        // Taken by someone else, or in TIME_WAIT the kernel will not give back yet.
        if (fd >= 0 || (errno != EADDRINUSE && errno != EADDRNOTAVAIL)) return fd;
    }
    return connect_nb(opt->target, &src_addr);  // this worker's ports used up
}

// Opens a connection and gives it a slot; -1 (the failure counted) if it cannot.
int open_slot(uint64_t now, uint64_t quota, uint32_t idx) {
    static uint32_t next_source;
    int src = opt->nsources ? (int)(next_source++ % (uint32_t)opt->nsources) : -1;
    int fd = src < 0 ? connect_nb(opt->target)
             : held ? connect_held(opt->sources[src], src)
                    : connect_nb(opt->target, &opt->sources[src]);
    Failure why = F_NO_FDS;
    if (fd >= max_fds) {  // cannot happen with the preflight check; keep the array safe
        close(fd);
        fd = -1;
    } else if (fd < 0) {
        why = classify(errno, true);
        static bool warned;
        if (why == F_NO_PORTS && !warned) {
            warned = true;
            warn_("connect %s: local ports used up (TIME_WAIT holds them for 60 s); add source "
                  "addresses with -s 127.0.0.2-127.0.0.20, or wait", rep->target);
        }
    } else {
        set_nodelay(fd);
        epoll_event ev = {};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.fd = fd;
        if (epoll_ctl(ep_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            why = classify(errno, true);
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0) {
        if (!held) {
            fail_requests(why, quota);
        } else {
            if (!opt->rate) fail_requests(why, 1);
            lose_connection(idx, why, true);
        }
        return -1;
    }
    Slot &s = slots[fd];
    s = Slot{};
    s.quota = (uint32_t)quota;
    s.idx = idx;
    s.state = S_CONNECTING;
    s.deadline_ns = now + timeout_ns;
    if (fd > max_slot_fd) max_slot_fd = fd;
    if (!held) rep->connections++;
    if ((uint64_t)++open_conns > rep->peak_open) rep->peak_open = (uint64_t)open_conns;
    return fd;
}

void start_oneshot(uint64_t now) {
    long long quota = unassigned < opt->per_conn ? unassigned : opt->per_conn;
    unassigned -= quota;
    open_slot(now, (uint64_t)quota, 0);
}

// A whole echo arrived for the request in flight.
void on_echo(int fd, Slot &s, uint64_t now) {
    in_flight--;
    echoes++;
    s.state = S_IDLE;
    if (!held) {
        rep->latency.add(now - s.sent_ns);
        rep->succeeded++;
        if (++s.done == s.quota) close_slot(fd, F_OTHER, true);
        else send_request(fd, s, 0);
        return;
    }
    if (!opt->rate) s.counted = now >= w_begin && now < w_end;
    if (s.counted) {
        rep->succeeded++;
        rep->latency.add(now - s.due_ns);
        if (opt->rate) rep->service.add(now - s.sent_ns);
    }
    if (opt->rate) {
        if (s.owed) send_owed(fd, s);
    } else if (now < w_end) {
        send_request(fd, s, 0);
    }
}

void on_readable(int fd, Slot &s, uint32_t e) {
    bool was_idle = s.state == S_IDLE;
    while (s.state == S_WAIT_ECHO) {
        char buf[64];
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
        if (s.rx_len + n > s.tx_len) {  // more than we sent: not an echo
            close_slot(fd, F_MISMATCH, false);
            return;
        }
        memcpy(s.rx + s.rx_len, buf, (size_t)n);
        s.rx_len = (uint8_t)(s.rx_len + n);
        if (s.rx_len < s.tx_len) continue;
        uint64_t echoed;
        if (memcmp(s.rx, s.tx, s.tx_len) != 0 || !decode_ts(s.rx, s.rx_len, &echoed)) {
            close_slot(fd, F_MISMATCH, false);
            return;
        }
        on_echo(fd, s, mono_ns());
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

void on_connected(int fd, Slot &s) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err) {
        close_slot(fd, classify(err, true), false);
        return;
    }
    s.state = S_IDLE;
    fd_of[s.idx] = fd;
    connected++;
    settled++;
    rep->connections++;
}

void on_event(int fd, uint32_t e) {
    Slot &s = slots[fd];
    if (s.state == S_FREE) return;  // stale event of a slot closed in this batch
    if (s.state == S_CONNECTING) {
        if (!(e & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        if (held) {
            // A peer that accepts and closes at once (a server out of descriptors) may
            // have its FIN in this same edge-triggered event: look at it now or never.
            on_connected(fd, s);
            if (s.state == S_IDLE && (e & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)))
                on_readable(fd, s, e);
            return;
        }
        // No getsockopt(SO_ERROR): a failed connect makes this write fail with its errno.
        if (!send_request(fd, s, 0)) return;
    } else if (s.state == S_WAIT_ECHO && s.tx_off < s.tx_len && (e & EPOLLOUT)) {
        ssize_t n = send(fd, s.tx + s.tx_off, s.tx_len - s.tx_off, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN) {
            close_slot(fd, classify(errno, false), false);
            return;
        }
        if (n > 0) s.tx_off = (uint8_t)(s.tx_off + n);
    }
    if (e & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) on_readable(fd, s, e);
}

void expire(uint64_t now) {
    for (int fd = 0; fd <= max_slot_fd; fd++) {
        Slot &s = slots[fd];
        if ((s.state != S_CONNECTING && s.state != S_WAIT_ECHO) || now < s.deadline_ns) continue;
        if (s.state == S_CONNECTING) {
            // Its event may still be waiting its turn in a busy client: ask the socket.
            // (poll's bits are epoll's on Linux.)
            pollfd p = {fd, POLLOUT | POLLIN | POLLRDHUP, 0};
            if (poll(&p, 1, 0) == 1) {
                on_event(fd, (uint32_t)p.revents);
                continue;
            }
        }
        close_slot(fd, s.state == S_CONNECTING ? F_CONNECT_TIMEOUT : F_READ_TIMEOUT, false);
    }
}

// -R: hands every request now due to its connection.
void schedule(uint64_t now) {
    long long c = opt->concurrency;
    for (; next_k < k_end && due_of(next_k) <= now; next_k++) {
        uint32_t j = (uint32_t)(next_k % (uint64_t)c);
        int fd = fd_of[j];
        if (fd < 0) {  // its connection failed: the request cannot be offered
            fail_requests((Failure)dead_why[j], 1);
            continue;
        }
        Slot &s = slots[fd];
        s.owed++;
        owed_total++;
        if (s.state == S_IDLE) send_owed(fd, s);
    }
}

// Connections are all up (or failed): start the traffic and the clocks.
void start_traffic(uint64_t now) {
    rep->connect_s = (double)(now - t_run) / 1e9;  // t_run held the connect start
    t_run = now;
    w_begin = now + (uint64_t)opt->warmup_s * kSec;
    w_end = w_begin + (uint64_t)opt->duration_s * kSec;
    if (opt->rate) {
        k_begin = (uint64_t)(opt->warmup_s * opt->rate);
        k_end = (uint64_t)((opt->warmup_s + opt->duration_s) * opt->rate);
        return;
    }
    for (long long j = 0; j < opt->concurrency; j++)
        if (fd_of[j] >= 0) send_request(fd_of[j], slots[fd_of[j]], 0);
}

void progress(uint64_t now, uint64_t start, uint64_t *last_echoes) {
    fprintf(stderr, "\rcli_flood: %3.0f s  connected %lld  in flight %lld  done %llu  errors %llu"
            "  rate %llu/s\033[K", (double)(now - start) / 1e9, held ? connected : open_conns,
            in_flight + owed_total, (unsigned long long)echoes, (unsigned long long)rep->failed,
            (unsigned long long)(echoes - *last_echoes));
    *last_echoes = echoes;
}

int wait_events(epoll_event *events, uint64_t now, uint64_t wake) {
    uint64_t wait_ns = wake > now ? wake - now : 0;
    timespec ts = {(time_t)(wait_ns / kSec), (long)(wait_ns % kSec)};
    static bool no_pwait2;
    if (!no_pwait2) {
        int n = epoll_pwait2(ep_fd, events, kMaxEvents, &ts, &wait_mask);
        if (n >= 0 || errno != ENOSYS) return n;
        no_pwait2 = true;  // kernel before 5.11: millisecond timeouts, rounded up
    }
    return epoll_pwait(ep_fd, events, kMaxEvents, (int)((wait_ns + 999999) / 1000000), &wait_mask);
}

}  // namespace

void run_events(const Options &o, Report *r) {
    opt = &o;
    rep = r;
    held = o.duration_s > 0;
    timeout_ns = (uint64_t)o.timeout_s * kSec;
    max_fds = raise_fd_limit();
    setup_signals(&wait_mask);
    slots = (Slot *)calloc((size_t)max_fds, sizeof *slots);
    fd_of = (int *)malloc((size_t)o.concurrency * sizeof *fd_of);
    dead_why = (uint8_t *)calloc((size_t)o.concurrency, 1);
    next_port = (uint32_t *)calloc((size_t)o.nsources + 1, sizeof *next_port);
    ep_fd = epoll_create1(EPOLL_CLOEXEC);
    if (!slots || !fd_of || !dead_why || !next_port || ep_fd < 0) die_errno(EXIT_RUNTIME, "setting up");
    for (long long j = 0; j < o.concurrency; j++) fd_of[j] = -1;

    unassigned = o.requests;
    static epoll_event events[kMaxEvents];
    uint64_t start = mono_ns(), last_expire = start, last_progress = start, last_echoes = 0;
    t_run = start;
    bool traffic = false;
    while (!stop_requested()) {
        uint64_t now = mono_ns();
        uint64_t wake = now + kSec / 10;  // timeouts are checked every 100 ms
        if (!held) {
            // Open the whole -c at once, as the experiment asks: all in flight together.
            while (unassigned > 0 && open_conns < o.concurrency) start_oneshot(now);
            if (unassigned == 0 && open_conns == 0) break;
        } else if (!traffic) {
            long long allowed = o.concurrency;
            if (o.connect_rate) {
                allowed = (long long)((now - start) * (unsigned __int128)o.connect_rate / kSec) + 1;
                if (allowed > o.concurrency) allowed = o.concurrency;
                uint64_t next = start + (uint64_t)((unsigned __int128)allowed * kSec / (uint64_t)o.connect_rate);
                if (allowed < o.concurrency && next < wake) wake = next;
            }
            for (int opened = 0; launched < allowed; opened++) {
                if (opened == kOpensPerTurn) {
                    wake = now;  // more are due: only look at what is ready
                    break;
                }
                launched++;
                open_slot(now, 0, (uint32_t)(launched - 1));
            }
            if (settled == o.concurrency) {
                traffic = true;
                start_traffic(now);
                if (connected == 0) break;
            }
        }
        if (traffic) {
            if (o.rate) {
                schedule(now);
                if (next_k >= k_end && in_flight == 0 && owed_total == 0) break;
                if (next_k < k_end && due_of(next_k) < wake) wake = due_of(next_k);
            } else {
                if (now >= w_end) break;
                if (w_end < wake) wake = w_end;
            }
            if (connected == 0) break;  // every connection failed
        }
        int n = wait_events(events, now, wake);
        if (n < 0 && errno != EINTR) die_errno(EXIT_RUNTIME, "epoll_wait");
        for (int i = 0; i < n; i++) on_event(events[i].data.fd, events[i].events);
        now = mono_ns();
        if (now - last_expire >= kSec / 10) {
            last_expire = now;
            expire(now);
        }
        if (o.progress && now - last_progress >= kSec) {
            last_progress = now;
            progress(now, start, &last_echoes);
        }
    }
    uint64_t end = mono_ns();
    if (o.progress) fprintf(stderr, "\r\033[K");
    r->wall_s = (double)(end - start) / 1e9;
    // What is still open: interrupted, or (closed loop) past the window's end.
    for (int fd = 0; fd <= max_slot_fd; fd++)
        if (slots[fd].state != S_FREE) close_slot(fd, F_INTERRUPTED, !g_stop);
    if (g_stop && !held) fail_requests(F_INTERRUPTED, (uint64_t)unassigned);
    if (held && o.rate && traffic && next_k < k_end) {  // the rest was never offered
        if (g_stop) fail_requests(F_INTERRUPTED, k_end - next_k);
        else schedule(UINT64_MAX);  // all connections failed: each request by its cause
    }
    r->concurrency = o.concurrency;
    r->rate = o.rate;
    if (!held) {
        r->requests = o.requests;
        r->per_conn = o.per_conn;
        r->requests_per_s = r->wall_s > 0 ? (double)r->succeeded / r->wall_s : 0;
        r->connections_per_s = r->wall_s > 0 ? (double)r->connections / r->wall_s : 0;
        return;
    }
    r->held = true;
    r->per_conn = 0;
    r->requests = (long long)(r->succeeded + r->failed);
    r->duration_s = (double)o.duration_s;
    r->warmup_s = (double)o.warmup_s;
    if (!traffic) r->connect_s = (double)(end - start) / 1e9;
    // The window actually measured: shorter only if the run was interrupted.
    double window = (double)o.duration_s;
    if (g_stop && end < w_end) window = end > w_begin ? (double)(end - w_begin) / 1e9 : 0;
    if (!traffic) window = 0;
    r->requests_per_s = window > 0 ? (double)r->succeeded / window : 0;
    r->connections_per_s = r->connect_s > 0 ? (double)r->connections / r->connect_s : 0;
}
