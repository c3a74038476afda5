// srv_fork: timestamp echo server with a process per connection.
//
// The parent accept()s and forks; the child echoes with blocking I/O until the peer
// closes, then _exits. With -w N it pre-forks N workers instead (Apache prefork):
// each inherits the listener and accept()s and serves one connection at a time.
//
// Children count into one MAP_SHARED anonymous page with atomic adds, a write at a
// time, so the parent's statistics are right however a child ends (even killed at
// shutdown). SIGCHLD may stand for several exits: the parent reaps in a loop with
// waitpid(WNOHANG). Children share one process group of their own, so SIGINT/SIGTERM
// ends them all with one kill(): the parent is one runnable process among 10,000
// busy children, and a kill() per child took it seconds to get scheduled through.
// A child touches little memory: a 4 KiB buffer on a stack page, the shared page;
// 10,000 of them are page tables and kernel stacks mostly.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/echo.h"
#include "../common/net.h"
#include "../common/server.h"
#include "../common/util.h"

namespace {


ServerConfig cfg;
// Connections refused because fork failed: this strategy's own counter.
constexpr Counter C_FORK_FAILED = C_OWN;
ServerStats st;
ServerStats *sh;  // what children count for the parent, with __atomic builtins
int listen_fd, reserve_fd;
long max_fds;
int lifeline[2];          // every child holds the write end: EOF when the last is gone
sigset_t child_mask;      // the mask the children run with
pid_t child_group;        // the children's process group; 0 when there are none
long pid_max;
long live_count;          // children not yet reaped: while > 0, child_group is ours
volatile sig_atomic_t g_child;


void add(uint64_t *counter, uint64_t n) { __atomic_fetch_add(counter, n, __ATOMIC_RELAXED); }

// In a new child: drop what belongs to the parent, take default stop signals.
void become_child() {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    sigprocmask(SIG_SETMASK, &child_mask, nullptr);
    // Do not outlive a parent that was killed outright.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) _exit(0);
    if (reserve_fd >= 0) close(reserve_fd);
    close(lifeline[0]);
}

void worker() {
    become_child();
    for (;;) {
        int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);  // blocking
        if (fd < 0) {
            if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO) {
                add(&sh->n[C_ACCEPT_ERROR], 1);
                poll(nullptr, 0, 100);  // EMFILE and the like: pause, never spin
            }
            continue;
        }
        set_nodelay(fd);
        add(&sh->n[C_ACCEPTED], 1);
        uint64_t now = __atomic_add_fetch(&sh->open, 1, __ATOMIC_RELAXED);
        uint64_t peak = __atomic_load_n(&sh->n[C_PEAK_OPEN], __ATOMIC_RELAXED);
        while (now > peak &&
               !__atomic_compare_exchange_n(&sh->n[C_PEAK_OPEN], &peak, now, true, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED)) {
        }
        echo_blocking(fd, cfg.idle_s, sh);
        __atomic_fetch_sub(&sh->open, 1, __ATOMIC_RELAXED);
    }
}

// fork() for a connection (fd >= 0) or a worker (fd < 0); false if fork failed.
bool spawn(int fd) {
    if (live_count == 0) child_group = 0;
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        // Both sides set the group, so it is right whichever runs first.
        setpgid(0, child_group);
        if (fd < 0) worker();
        become_child();
        close(listen_fd);
        echo_blocking(fd, cfg.idle_s, sh);
        _exit(0);
    }
    // A live (unreaped) child keeps the group's ID from being reused, so the group
    // is ours for as long as live_count > 0; the first child of a new batch leads.
    setpgid(pid, child_group);
    if (child_group == 0) child_group = pid;
    live_count++;
    return true;
}

void reap() {
    g_child = 0;
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
        live_count--;
        if (!cfg.workers) st.open--;
    }
}

void accept_all() {
    static bool warned_fork;
    // Under a flood the queue may not drain for seconds: a stop cannot wait for it.
    while (!stop_requested()) {
        int fd = server_accept(listen_fd, &reserve_fd, max_fds, &st);
        if (fd < 0) return;
        // Under a steady flood the queue never drains to EAGAIN: reap as we go, or
        // exited children would pile up as zombies until fork hits pid_max.
        reap();
        if (spawn(fd)) {
            st.opened();
        } else {
            // EAGAIN (RLIMIT_NPROC, pid_max) or ENOMEM: refuse this one connection,
            // never retry it; the next connection tries fork afresh.
            if (!warned_fork)
                warn_errno("fork (refusing connections while processes cannot be created)");
            warned_fork = true;
            st.n[C_FORK_FAILED]++;
        }
        close(fd);
    }
}

// How many more processes this user may start, and why, for the start line.
long capacity(char *why, size_t len) {
    rlimit rl;
    long nproc = getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                     ? (long)rl.rlim_cur : -1;
    long threads_max = proc_number("/proc/sys/kernel/threads-max", nullptr, 0);
    long tasks = -1;  // every thread on the machine: 4th field of /proc/loadavg, "1/345"
    if (FILE *f = fopen("/proc/loadavg", "r")) {
        if (fscanf(f, "%*s %*s %*s %*d/%ld", &tasks) != 1) tasks = -1;
        fclose(f);
    }
    long cap = pid_max;  // the machine: every task counts
    if (threads_max > 0 && threads_max < cap) cap = threads_max;
    if (tasks > 0) cap -= tasks;
    // This user: RLIMIT_NPROC counts its processes, this one included. Root is exempt.
    if (nproc > 0 && geteuid() != 0 && nproc - 1 < cap) cap = nproc - 1;
    snprintf(why, len, "RLIMIT_NPROC %ld%s, pid_max %ld, threads-max %ld, %ld tasks running",
             nproc, geteuid() == 0 ? " (not enforced for root)" : "", pid_max, threads_max,
             tasks);
    return cap > 0 ? cap : 0;
}

}  // namespace

int main(int argc, char **argv) {
    sigset_t wait_mask;
    max_fds = server_init(argc, argv, C10K_PROG, &cfg, &wait_mask);
    cfg.own_counter[0] = "fork_failed";
    child_mask = wait_mask;
    struct sigaction sa = {};
    sa.sa_handler = [](int) { g_child = 1; };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, nullptr);
    // Blocked like the stop signals, so only the wait below sees it.
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, nullptr);

    pid_max = proc_number("/proc/sys/kernel/pid_max", nullptr, 0);
    if (pid_max <= 0) pid_max = 4194304;  // the kernel's largest
    sh = (ServerStats *)mmap(nullptr, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) die_errno(EXIT_RUNTIME, "cannot allocate process state");
    if (pipe2(lifeline, O_CLOEXEC) < 0) die_errno(EXIT_RUNTIME, "pipe");

    listen_fd = server_listen(&cfg, false);
    reserve_fd = cfg.workers ? -1 : reserve_fd_open();
    char why[160], strategy[256];
    long cap = capacity(why, sizeof why);
    if (cfg.workers) {
        // Workers block in accept(); the flag is on the shared file description.
        fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) & ~O_NONBLOCK);
        snprintf(strategy, sizeof strategy, "prefork (%d workers, one connection each; %s)",
                 cfg.workers, why);
        cap = cfg.workers < cap ? cfg.workers : cap;
    } else {
        snprintf(strategy, sizeof strategy, "fork (a process per connection; %s)", why);
    }
    server_print_start(cfg, strategy, cap);

    pollfd lp = {listen_fd, POLLIN, 0};
    timespec tick = {1, 0};
    bool warned = false;
    while (!stop_requested()) {
        // -w: top the workers up, at most once a wakeup, so a failing fork never spins.
        while (cfg.workers && live_count < cfg.workers && !g_stop) {
            if (!spawn(-1)) {
                if (!warned) warn_errno("fork (will retry each second)");
                warned = true;
                st.n[C_FORK_FAILED]++;
                break;
            }
        }
        int n = ppoll(&lp, cfg.workers ? 0 : 1, cfg.workers ? &tick : nullptr, &wait_mask);
        if (n < 0 && errno != EINTR) die_errno(EXIT_RUNTIME, "poll");
        // Reap every round, not only on SIGCHLD: when the listener is ready at once,
        // ppoll returns without delivering the pending signal.
        reap();
        if (n > 0 && !cfg.workers) accept_all();
    }
    // Statistics first, then end the children: once 10,000 of them are dying, the
    // parent is one runnable process among them and prints only after most are gone.
    // A child may echo a few bytes more in between, uncounted.
    // The parent counts what it accepts, its children (or -w workers) the rest.
    for (int c = 0; c < C_COUNT; c++) st.n[c] += __atomic_load_n(&sh->n[c], __ATOMIC_RELAXED);
    server_print_stats(cfg, st);
    // One kill() for all: SIGKILL, as their SIGTERM would be (they take the default
    // action), but it needs no trip to user mode. Each dying child reaps itself
    // (SIGCHLD ignored), and the parent sleeps until the lifeline's last write end
    // closes. A wait() would be woken by every exit to walk the whole list of
    // children again; ending 10,000 took 548-1642 ms that way, 599-765 ms this way.
    if (live_count > 0) kill(-child_group, SIGKILL);
    signal(SIGCHLD, SIG_IGN);
    close(lifeline[1]);
    char eof;
    while (read(lifeline[0], &eof, 1) < 0 && errno == EINTR) {
    }
    // The zombies left from before, and the last children finishing their exit.
    while (wait(nullptr) > 0 || errno == EINTR) {
    }
    return 0;
}
