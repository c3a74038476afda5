// cli_flood -w: the supervisor of the event-loop processes.
#include <cerrno>
#include <csignal>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/util.h"
#include "flood.h"

// -w: one event loop per process, each with its share of the connections, requests
// and rate; each writes its JSON report to a pipe and the reports are merged.
void run_workers(const Options &opt, Report *r) {
    int n = (int)opt.workers;
    pid_t pids[kMaxWorkers];
    int fds[kMaxWorkers];
    sigset_t wait_mask;
    setup_signals(&wait_mask);
    for (int i = 0; i < n; i++) {
        int p[2];
        if (pipe(p) != 0) die_errno(EXIT_RUNTIME, "pipe");
        pids[i] = fork();
        if (pids[i] < 0) die_errno(EXIT_RUNTIME, "fork worker %d of %d", i, n);
        if (pids[i] == 0) {
            close(p[0]);
            for (int j = 0; j < i; j++) close(fds[j]);
            Options o = opt;
            auto share = [&](long long v) { return v / n + (i < v % n ? 1 : 0); };
            o.concurrency = share(opt.concurrency);
            if (!opt.duration_s) o.requests = share(opt.requests);
            if (opt.rate) o.rate = share(opt.rate) ? share(opt.rate) : 1;
            if (opt.connect_rate) o.connect_rate = share(opt.connect_rate) ? share(opt.connect_rate) : 1;
            o.workers = 1;
            o.worker_index = i;
            o.worker_count = n;
            o.progress = false;
            static Report wr;
            snprintf(wr.target, sizeof wr.target, "%s", r->target);
            interval_begin(o, mono_ns());
            run_events(o, &wr);
            interval_end(wr, mono_ns());
            FILE *f = fdopen(p[1], "w");
            print_report(f, wr, true);
            _exit(fclose(f) == 0 ? 0 : EXIT_RUNTIME);
        }
        close(p[1]);
        fds[i] = p[0];
    }
    static Report one;
    static char buf[1 << 20];
    for (int i = 0; i < n; i++) {
        size_t len = 0;
        for (;;) {
            pollfd pf = {fds[i], POLLIN, 0};
            if (ppoll(&pf, 1, nullptr, &wait_mask) < 0) {
                if (errno != EINTR) die_errno(EXIT_RUNTIME, "poll");
                if (g_stop) {  // forward a stop aimed at this process alone
                    for (int j = 0; j < n; j++) kill(pids[j], SIGTERM);
                    g_stop = 0;
                }
                continue;
            }
            ssize_t got = read(fds[i], buf + len, sizeof buf - 1 - len);
            if (got <= 0) break;
            len += (size_t)got;
        }
        buf[len] = '\0';
        close(fds[i]);
        int status;
        waitpid(pids[i], &status, 0);
        char err[160];
        if (!parse_report(buf, i == 0 ? r : &one, err, sizeof err))
            die(EXIT_RUNTIME, "worker %d (pid %d) gave no report (%s; exit status %d)", i,
                (int)pids[i], err, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        if (i > 0 && merge_report(r, one))  // cannot be: the workers run alike
            die(EXIT_RUNTIME, "worker %d (pid %d): a report of another kind", i, (int)pids[i]);
    }
}

