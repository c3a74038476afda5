// What every server shares outside its loop: options, start line, statistics.
#pragma once
#include <cstdint>
#include <cstdio>

#include "net.h"

struct ServerConfig {
    Endpoint ep;
    char addr[64];      // printable listen address
    int backlog = 4096;
    int idle_s = 0;     // -t: close connections idle this long; 0 never
    bool quiet = false; // -q: no start line, no statistics
    int workers = 0;    // -w, where the strategy has workers
};

// Counters a server prints when it stops; key=value so scripts can read them.
struct ServerStats {
    uint64_t accepted = 0;
    uint64_t open = 0, peak_open = 0;
    uint64_t bytes_echoed = 0;
    uint64_t idle_closed = 0;
    uint64_t err_reset = 0;       // ECONNRESET/EPIPE from a peer
    uint64_t err_io = 0;          // any other read/write failure
    uint64_t refused_nofd = 0;    // accepted and closed at once for lack of descriptors
    uint64_t err_accept = 0;      // accept failures other than EAGAIN/EINTR/ECONNABORTED
    uint64_t err_nomem = 0;       // echo buffer could not be allocated
    uint64_t fork_failed = 0;     // srv_fork: connections refused because fork failed

    void opened() {
        accepted++;
        if (++open > peak_open) peak_open = open;
    }
};

// Parses [-a addr] [-b backlog] [-t idle-seconds] [-q] [-w workers] [port];
// `usage` prints the synopsis to the given stream. Exits 2 on bad usage, 0 after -h.
void server_parse_args(int argc, char **argv, ServerConfig *cfg, bool has_workers,
                       void (*usage)(FILE *));
// Binds the listener or exits 1 with the reason.
int server_listen(ServerConfig *cfg, bool reuseport);
void server_print_start(const ServerConfig &cfg, const char *strategy, long capacity);
void server_print_stats(const ServerConfig &cfg, const ServerStats &st, bool forks = false);
// accept_nb for a listener being drained: skips aborted handshakes, refuses and
// counts pending connections when descriptors run out (the spare-descriptor trick,
// one warning), counts other failures. -1 means stop draining for now; errno then
// says why (EAGAIN: drained; EMFILE/ENFILE: out of descriptors).
int server_accept(int lfd, int *reserve_fd, ServerStats *st);
// errno of a failed read/write into the right counter.
void count_io_error(ServerStats *st, int err);
