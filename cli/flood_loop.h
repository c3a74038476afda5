// The event loop's insides, shared by its two kinds of run: flood_loop.cpp has the
// connection mechanics and one-shot runs, flood_held.cpp held runs (-d).
#pragma once
#include <csignal>
#include <cstdint>

#include "flood.h"
#include "flood_proto.h"

enum State : uint8_t { S_FREE, S_CONNECTING, S_IDLE, S_WAIT_ECHO };

// Per-connection state, in a flat array indexed by fd.
struct Slot {
    uint64_t sent_ns, due_ns, deadline_ns;
    uint64_t ready_ns, echoed_ns;  // -R: when the request in flight could have gone, its echo came
    uint32_t quota, done;  // one-shot: requests this connection carries, and finished
    uint32_t idx;          // held: connection number, 0 .. c-1
    uint32_t next_n;       // -R: the next request this connection sends is its next_n-th
    uint32_t owed;         // -R: requests due and not yet sent
    bool counted;          // the request in flight falls in the measured window
    State state;
    uint32_t tx_off, rx_off;  // bytes of req sent, and of its echo checked (--send: the frame's state)
    Request req;
    HttpReply http;        // --http: the response in progress
};

// What differs between one-shot and held runs, where the mechanics meet it.
struct Mode {
    // Opens a connection to the target (from which source, on which port).
    int (*connect)(uint32_t idx);
    // Connection idx (one-shot: carrying quota requests) failed; count what it
    // still carried. s is null when it never got a slot.
    void (*lost)(const Slot *s, uint32_t idx, uint64_t quota, Failure why);
    // Its connect finished (e: the epoll bits that said so).
    void (*connected)(int fd, Slot &s, uint32_t e);
    // A whole echo of the request in flight arrived.
    void (*echoed)(int fd, Slot &s, uint64_t now);
};

// One run's state: one process runs one at a time.
struct Run {
    const Options *opt;
    Report *rep;
    const Mode *mode;
    Slot *slots;
    long max_fds;
    int ep_fd, max_slot_fd;
    sigset_t wait_mask;
    uint64_t timeout_ns;
    uint64_t start;                 // when the run began
    uint64_t last_expire, last_progress;
    // No slot's deadline comes before this, so expire() need not look: a million
    // slots scanned ten times a second cost the client's core more than its requests.
    uint64_t next_deadline;
    long long open_conns, in_flight;
    uint64_t echoes;                // every echo, warm-up included: for the progress line
    long long unassigned;           // one-shot: requests not yet given to a connection
    // Held runs.
    int *fd_of;                     // connection number -> fd, -1 once it failed
    uint8_t *dead_why;              // why that connection failed
    uint32_t *next_port;            // per source: how many of this worker's ports it used
    long long launched, settled, connected, owed_total;
    uint64_t t_run, w_begin, w_end; // start of the traffic, the measured window
    uint64_t next_k, k_begin, k_end;// -R: next request to schedule, the window's requests
    bool traffic;                   // the connections are up and the window has begun
};
extern Run run;

constexpr uint64_t kSec = 1000000000u;

void fail_requests(Failure why, uint64_t n);
// A whole reply came: counts its HTTP status class (--http); whether it succeeded.
bool reply_counted(const Slot &s);
// The reply said the server closes the connection after it (HTTP Connection: close):
// what the connection was still to carry is lost, as closed_early.
inline bool reply_closes(const Slot &s) { return g_proto == P_HTTP && http_closes(s.http); }
// The one close path. ok=false fails what the connection still carries.
void close_slot(int fd, Failure why, bool ok);
// Opens connection idx (one-shot: carrying quota requests) and gives it a slot;
// -1, the failure counted, if it cannot.
int open_slot(uint64_t now, uint64_t quota, uint32_t idx);
// Sends a request (due at `due`, or now if 0); false if that closed the connection.
bool send_request(int fd, Slot &s, uint64_t due);
// Sends what the socket takes of the request in flight; false if that closed it.
bool send_more(int fd, Slot &s, bool connecting);
void on_readable(int fd, Slot &s, uint32_t e);
// Waits until `wake` at most, handles the events, expires what is overdue and
// draws the progress line.
void loop_turn(uint64_t now, uint64_t wake);

// Held runs: flood_held.cpp.
extern const Mode kHeldMode;
void run_held();
