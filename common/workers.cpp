#include "workers.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

namespace {

struct Worker {
    pid_t pid;
    int listen_fd;
    int stats_fd;  // read end of the pipe the worker writes its counters to
    time_t started;
};

// Each worker's peak_open adds up too: their sum bounds the true peak.
void add(ServerStats *sum, const ServerStats &w) {
    for (int c = 0; c < C_COUNT; c++) sum->n[c] += w.n[c];
}

// Reads what a finished worker wrote; a crashed worker wrote nothing.
void collect(Worker &w, ServerStats *sum) {
    ServerStats got;
    ssize_t n = read(w.stats_fd, &got, sizeof got);
    if (n == (ssize_t)sizeof got) add(sum, got);
    close(w.stats_fd);
    w.stats_fd = -1;
}

bool spawn(Worker &w, Worker *all, int n, void (*serve)(int), ServerStats *st) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        warn_errno("pipe");
        return false;
    }
    pid_t pid = fork();
    if (pid < 0) {
        warn_errno("fork worker");
        close(p[0]);
        close(p[1]);
        return false;
    }
    if (pid == 0) {
        close(p[0]);
        for (int i = 0; i < n; i++) {
            if (all[i].listen_fd != w.listen_fd) close(all[i].listen_fd);
            if (all[i].stats_fd >= 0) close(all[i].stats_fd);
        }
        // Back to what setup_signals() left: only the stop signals blocked, so the
        // loop's epoll_pwait/ppoll/pselect still unblocks them race-free.
        sigset_t stop_only;
        sigemptyset(&stop_only);
        sigaddset(&stop_only, SIGINT);
        sigaddset(&stop_only, SIGTERM);
        sigprocmask(SIG_SETMASK, &stop_only, nullptr);
        *st = ServerStats{};
        serve(w.listen_fd);
        ssize_t wr = write(p[1], st, sizeof *st);  // one small write: atomic on a pipe
        _exit(wr == (ssize_t)sizeof *st ? 0 : 1);
    }
    close(p[1]);
    w.pid = pid;
    w.stats_fd = p[0];
    w.started = time(nullptr);
    return true;
}

}  // namespace

int run_workers(ServerConfig *cfg, const char *strategy, long capacity_per_worker,
                void (*serve)(int), ServerStats *st) {
    int n = cfg->workers;
    Worker *ws = (Worker *)calloc((size_t)n, sizeof *ws);
    if (!ws) die(EXIT_RUNTIME, "cannot allocate %d workers", n);
    for (int i = 0; i < n; i++) {
        ws[i].listen_fd = server_listen(cfg, true);  // the first bind fixes port 0 for the rest
        ws[i].stats_fd = -1;
    }
    // SIGCHLD joins the stop signals: the parent only waits for signals.
    sigset_t wanted;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGINT);
    sigaddset(&wanted, SIGTERM);
    sigaddset(&wanted, SIGCHLD);
    sigprocmask(SIG_BLOCK, &wanted, nullptr);

    char what[128];
    snprintf(what, sizeof what, "%s, %d workers (SO_REUSEPORT)", strategy, n);
    // Each worker also keeps the pipe its statistics go back through.
    server_print_start(*cfg, what, (capacity_per_worker - 1) * n);
    for (int i = 0; i < n; i++)
        if (!spawn(ws[i], ws, n, serve, st)) die(EXIT_RUNTIME, "could not start worker %d", i);

    ServerStats sum;
    int restarts = 0;
    for (;;) {
        int sig = sigwaitinfo(&wanted, nullptr);
        if (sig == SIGINT || sig == SIGTERM) break;
        if (sig != SIGCHLD) continue;
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            for (int i = 0; i < n; i++) {
                if (ws[i].pid != pid) continue;
                collect(ws[i], &sum);
                ws[i].pid = 0;
                if (WIFSIGNALED(status))
                    warn_msg("worker %d (pid %d) killed by signal %d; restarting it", i, (int)pid,
                           WTERMSIG(status));
                else
                    warn_msg("worker %d (pid %d) exited with status %d; restarting it", i, (int)pid,
                           WEXITSTATUS(status));
                // A worker that dies at once would otherwise be restarted in a tight loop.
                if (time(nullptr) - ws[i].started < 1) sleep(1);
                restarts++;
                spawn(ws[i], ws, n, serve, st);
            }
        }
    }
    for (int i = 0; i < n; i++)
        if (ws[i].pid > 0) kill(ws[i].pid, SIGTERM);
    // Give the workers 5 s to report, then stop waiting for them.
    time_t deadline = time(nullptr) + 5;
    for (int left = n; left > 0;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid == 0) {
            if (time(nullptr) >= deadline) {
                warn_msg("%d workers did not stop in 5 s; killing them", left);
                for (int i = 0; i < n; i++)
                    if (ws[i].pid > 0) kill(ws[i].pid, SIGKILL);
                deadline = time(nullptr) + 5;
            }
            usleep(10000);
            continue;
        }
        if (pid < 0) break;
        for (int i = 0; i < n; i++) {
            if (ws[i].pid == pid) {
                collect(ws[i], &sum);
                ws[i].pid = 0;
                left--;
            }
        }
    }
    if (restarts) warn_msg("%d worker restarts", restarts);
    server_print_stats(*cfg, sum);
    free(ws);  // LeakSanitizer checks at exit
    return 0;
}

int serve_main(ServerConfig *cfg, const char *strategy, long capacity,
               void (*serve)(int listen_fd), ServerStats *st) {
    if (cfg->workers > 0) return run_workers(cfg, strategy, capacity, serve, st);
    int lfd = server_listen(cfg, false);
    server_print_start(*cfg, strategy, capacity);
    serve(lfd);
    server_print_stats(*cfg, *st);
    return 0;
}
