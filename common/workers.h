// Several event loops, one per core: N worker processes, each with its own
// SO_REUSEPORT listener (the kernel spreads connections over them), supervised
// by a parent that restarts a crashed worker and sums the statistics at the end.
#pragma once
#include "server.h"

// serve(listen_fd) runs one event loop until g_stop, counting into *st.
// The parent binds every listener first (so port 0 resolves once and nothing is
// refused while a worker restarts: its queue waits for the replacement). Prints
// the start line and, on SIGINT/SIGTERM, the summed statistics. Returns main's status.
int run_workers(ServerConfig *cfg, const char *strategy, long capacity_per_worker,
                void (*serve)(int listen_fd), ServerStats *st);

// The event loops' main after option parsing: with -w, run_workers; otherwise one
// loop in this process, between the start line and the statistics. Returns main's
// status.
int serve_main(ServerConfig *cfg, const char *strategy, long capacity,
               void (*serve)(int listen_fd), ServerStats *st);
