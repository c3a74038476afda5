// What every server shares outside its loop: options, start line, statistics.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "net.h"
#include "util.h"

struct ServerConfig {
    Endpoint ep;
    char addr[64];      // printable listen address
    int backlog = 4096;
    int idle_s = 0;     // -t: close connections idle this long; 0 never
    bool quiet = false; // -q: no start line, no statistics
    int workers = 0;    // -w, where the strategy has workers
    long inherited_fds = 0;  // descriptors 3 to RLIMIT_NOFILE - 1 open at start, not the server's
    // Names of the strategy's own counters (C_OWN...), set by the strategy; a null
    // name is not printed.
    const char *own_counter[2] = {};
};

// Counters a server prints when it stops, as name=value so scripts can read them;
// kCounter gives the names. A counter of one strategy alone (srv_fork's
// fork_failed) is one of the C_OWN slots, which the strategy names in
// ServerConfig::own_counter: common/ knows no strategy by name.
enum Counter {
    C_ACCEPTED, C_PEAK_OPEN, C_BYTES_ECHOED, C_IDLE_CLOSED,
    C_RESET,          // ECONNRESET/EPIPE/ETIMEDOUT from a peer
    C_IO_ERROR,       // any other read/write failure
    C_REFUSED_NOFD,   // accepted and closed at once for lack of descriptors
    C_ACCEPT_ERROR,   // accept failures other than EAGAIN/EINTR/ECONNABORTED
    C_NOMEM,          // echo buffer could not be allocated
    C_OWN,            // the strategy's own counters: C_OWN + 0 and + 1
    C_COUNT = C_OWN + 2
};
extern const char *const kCounter[C_OWN];

// -t: how often the event loops look for idle connections. Each is closed between
// idle_s and idle_s + 0.5 s after its last input.
constexpr uint32_t kIdleScanMs = 500;

struct ServerStats {
    uint64_t n[C_COUNT] = {};
    uint64_t open = 0;

    void opened() {
        n[C_ACCEPTED]++;
        if (++open > n[C_PEAK_OPEN]) n[C_PEAK_OPEN] = open;
    }
};

// Parses [-a addr] [-b backlog] [-t idle-seconds] [-q] [-w workers] [port];
// The synopsis names g_prog. Exits 2 on bad usage, 0 after -h. Also opens
// /dev/null on any of descriptors 0-2 that is closed, so that no socket takes a
// standard stream's number (close_fd asserts it never closes one).
void server_parse_args(int argc, char **argv, ServerConfig *cfg);
// What every server's main does first: names the program (g_prog), parses the
// arguments, raises RLIMIT_NOFILE and sets up the stop signals (setup_signals).
// Returns the descriptor limit now in force.
long server_init(int argc, char **argv, const char *prog, ServerConfig *cfg, sigset_t *wait_mask);
// Connections a process can hold with max_fds descriptors: less the three standard
// streams, the own descriptors the strategy keeps (listener, spare, epoll...) and
// those it inherited (a parent's log or lock left open: each one is a connection
// fewer, and the start line must not promise it).
inline long server_capacity(const ServerConfig &cfg, long max_fds, int own_fds) {
    return max_fds - 3 - own_fds - cfg.inherited_fds;
}
// Binds the listener or exits 1 with the reason.
int server_listen(ServerConfig *cfg, bool reuseport);
void server_print_start(const ServerConfig &cfg, const char *strategy, long capacity);
void server_print_stats(const ServerConfig &cfg, const ServerStats &st);
// accept_nb for a listener being drained: skips aborted handshakes, refuses and
// counts pending connections when descriptors run out (the spare-descriptor trick,
// one warning), counts other failures, and admits what it returns (server_admit).
// -1 means stop draining for now; errno then says why (EAGAIN: drained;
// EMFILE/ENFILE: out of descriptors).
int server_accept(int lfd, int *reserve_fd, long max_fds, ServerStats *st);
// An array of n per-descriptor entries, or exit 1 saying so. calloc: its pages
// are touched only as descriptors reach them, so a large limit costs nothing idle.
template <class T> T *per_fd_array(long n) {
    void *p = calloc((size_t)n, sizeof(T));
    if (!p) die(EXIT_RUNTIME, "cannot allocate state for %ld descriptors", n);
    return (T *)p;
}

// What a failed accept means: EAGAIN and aborted handshakes nothing; out of
// descriptors (true), refusing the pending connections with one warning; the rest
// an accept_error, with a warning.
bool server_accept_failed(int err, int lfd, int *reserve_fd, ServerStats *st);
// A new connection's descriptor, checked before a loop indexes its arrays (sized
// max_fds) by it, and given TCP_NODELAY. A descriptor past them cannot come below
// RLIMIT_NOFILE; it would be closed and counted as accept_error (false).
bool server_admit(int fd, long max_fds, ServerStats *st);
// errno of a failed read/write into the right counter.
void count_io_error(ServerStats *st, int err);
