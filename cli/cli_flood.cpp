// cli_flood: load generator for the timestamp echo servers.
//
// main() is getopt, a pre-flight check of the machine against what was asked,
// then one of the runners: the event loop (flood_loop.cpp: one-shot requests, or
// held connections with -d, paced with -R), in one process or in -w of them
// (flood_workers.cpp), blocking worker processes (flood_blocking.cpp), or the
// merge of saved JSON reports (flood_report.cpp).
#include <cstdlib>
#include <cstring>
#include <getopt.h>
#include <cerrno>
#include <sys/resource.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/util.h"
#include "flood.h"

namespace {

constexpr int kMaxSources = 1024;
Options opt;
bool merge_mode;
const char *hgrm_path;  // --hgrm
FILE *hgrm_file;

void usage(FILE *out) {
    fprintf(out,
            "usage: cli_flood [-h] [--json] [-a host] [-c concurrency] [-i seconds]\n"
            "                 [-l bytes] [-n requests] [-p port] [-r requests-per-connection]\n"
            "                 [-s sources] [-t timeout-seconds] [-w workers] [--hgrm file]\n"
            "       cli_flood -d seconds [--json] [-a host] [-c connections] [-i seconds]\n"
            "                 [-l bytes] [-p port] [-R rate] [-s sources] [-t timeout-seconds]\n"
            "                 [-w workers] [--batch microseconds] [--connect-rate n]\n"
            "                 [--hgrm file] [--warmup seconds]\n"
            "       cli_flood --blocking workers [--json] [-a host] [-i seconds] [-l bytes]\n"
            "                 [-n requests] [-p port] [-r requests-per-connection]\n"
            "                 [-t timeout-seconds] [--hgrm file]\n"
            "       cli_flood --merge [--json] [--hgrm file] file ...\n");
}

[[noreturn]] void usage_error(const char *fmt, const char *what) {
    warn_msg(fmt, what);
    usage(stderr);
    exit(EXIT_USAGE);
}

bool loopback_target() {
    const sockaddr_storage &ss = opt.target.ss;
    if (ss.ss_family == AF_INET)
        return (ntohl(((const sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&((const sockaddr_in6 *)&ss)->sin6_addr);
}

void parse_args(int argc, char **argv) {
    enum { O_JSON = 256, O_CONNECT_RATE, O_WARMUP, O_BLOCKING, O_MERGE, O_HGRM, O_BATCH };
    static const option longopts[] = {
        {"json", no_argument, nullptr, O_JSON},
        {"help", no_argument, nullptr, 'h'},
        {"connect-rate", required_argument, nullptr, O_CONNECT_RATE},
        {"warmup", required_argument, nullptr, O_WARMUP},
        {"blocking", required_argument, nullptr, O_BLOCKING},
        {"merge", no_argument, nullptr, O_MERGE},
        {"hgrm", required_argument, nullptr, O_HGRM},
        {"batch", required_argument, nullptr, O_BATCH},
        {nullptr, 0, nullptr, 0},
    };
    bool set_n = false, set_r = false, set_c = false, set_batch = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "a:c:d:hi:l:n:p:R:r:s:t:w:", longopts, nullptr)) != -1) {
        switch (ch) {
        case 'a': opt.host = optarg; break;
        case 'c': opt.concurrency = num_arg(optarg, 1, 10000000, "concurrency"); set_c = true; break;
        case 'd': opt.duration_s = num_arg(optarg, 1, 86400, "duration"); break;
        case 'i': opt.interval_s = num_arg(optarg, 1, 86400, "interval"); break;
        case 'l': {
            const char *why;
            if (!parse_num(optarg, 16, 1 << 20, &opt.request_bytes, &why))
                usage_error("-l: the request size must be 16 to 1048576 bytes: %s", optarg);
            break;
        }
        case 'n':
            opt.requests = num_arg(optarg, 1, 1000000000000LL, "number of requests");
            set_n = true;
            break;
        case 'p': opt.port = (int)num_arg(optarg, 1, 65535, "port"); break;
        case 'R': opt.rate = num_arg(optarg, 1, 100000000, "rate"); break;
        case 'r':
            opt.per_conn = num_arg(optarg, 1, 1000000000, "requests per connection");
            set_r = true;
            break;
        case 's': {
            static Endpoint sources[kMaxSources];
            char err[kErrLen];
            opt.nsources = parse_sources(optarg, sources, kMaxSources, err);
            if (opt.nsources < 0) usage_error("-s: %s", err);
            opt.sources = sources;
            break;
        }
        case 't': opt.timeout_s = num_arg(optarg, 1, 3600, "timeout"); break;
        case 'w': opt.workers = num_arg(optarg, 1, kMaxWorkers, "number of workers"); break;
        case O_JSON: opt.json = true; break;
        case O_CONNECT_RATE: opt.connect_rate = num_arg(optarg, 1, 10000000, "connect rate"); break;
        case O_WARMUP: opt.warmup_s = num_arg(optarg, 0, 86400, "warm-up"); break;
        case O_BLOCKING: opt.blocking = num_arg(optarg, 1, 10000, "number of blocking workers"); break;
        case O_MERGE: merge_mode = true; break;
        case O_HGRM: hgrm_path = optarg; break;
        case O_BATCH: opt.batch_us = num_arg(optarg, 0, 10000, "batch interval"); set_batch = true; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(EXIT_USAGE);
        }
    }
    if (merge_mode) {
        if (optind == argc) usage_error("%s: name the JSON reports to merge", "--merge");
        if (opt.interval_s) usage_error("%s: intervals are for a run, not a merge", "-i");
        return;
    }
    if (optind != argc) usage_error("unexpected argument: %s", argv[optind]);
    if (opt.duration_s) {
        if (set_n || set_r) usage_error("%s: a -d run holds its connections for the duration", "-n and -r");
        if (opt.blocking) usage_error("%s cannot hold connections (-d)", "--blocking");
        if (!set_c) opt.concurrency = 100;
    } else {
        if (opt.rate) usage_error("%s needs -d: how long to hold the rate", "-R");

        if (opt.connect_rate || opt.warmup_s)
            usage_error("%s apply to held connections (-d)", "--connect-rate and --warmup");
    }
    if (set_batch && !opt.rate) usage_error("%s paces -R: name a rate", "--batch");
    if (opt.blocking && set_c) usage_error("%s: with --blocking the workers are the concurrency", "-c");
    if (opt.blocking && (opt.workers > 1 || opt.nsources))
        usage_error("%s apply to the event loop, not --blocking", "-w and -s");
    char err[kErrLen];
    if (!resolve(opt.host, opt.port, &opt.target, err)) die(EXIT_USAGE, "-a: %s", err);
    if (!opt.duration_s) {
        // Each connection carries up to -r requests; more connections than that would idle.
        long long conns_needed = (opt.requests + opt.per_conn - 1) / opt.per_conn;
        if (opt.concurrency == 0 || opt.concurrency > conns_needed) opt.concurrency = conns_needed;
    }
    // On IPv4 loopback, without -s, spread the connections over 8 source addresses:
    // from one, a one-shot flood soon has every port of the pair in TIME_WAIT and
    // each connect() searches them, so the client, not the server, is measured
    // (-n 100000 -c 1000: 13,800 req/s from one source, 29,500 from eight).
    if (!opt.nsources && !opt.blocking && opt.target.ss.ss_family == AF_INET && loopback_target()) {
        static Endpoint loopback_sources[8];
        opt.nsources = parse_sources("127.0.0.1-127.0.0.8", loopback_sources, 8, err);
        opt.sources = loopback_sources;
        opt.default_sources = true;
    }
    if (opt.workers > opt.concurrency) usage_error("%s: more workers than connections", "-w");
    for (int i = 0; i < opt.nsources; i++)
        if (opt.sources[i].ss.ss_family != opt.target.ss.ss_family)
            usage_error("-s: source and server addresses differ in family (%s)", opt.host);
    opt.progress = isatty(STDERR_FILENO);
}

// Everything known before the first SYN to make the run fail: fatal problems are
// all listed, then exit 1; what only may hurt is a warning. Each says how to fix it.
void preflight() {
    int fatal = 0;
    // open at once, per process
    long long sockets = opt.blocking ? 1 : (opt.concurrency + opt.workers - 1) / opt.workers;
    long long at_once = opt.blocking ? opt.blocking : opt.concurrency;
    long max_fds = raise_fd_limit();
    long need = (long)sockets + 8;  // stdio, epoll and a little slack
    if (need > max_fds) {
        warn_msg("-c %lld needs %ld descriptors per process but RLIMIT_NOFILE allows %ld; lower "
               "-c, raise the hard limit (ulimit -Hn, limits.conf; fs.nr_open %ld caps it), or "
               "spread the connections over worker processes (-w %lld)", opt.concurrency, need,
               max_fds, (long)proc_number("/proc/sys/fs/nr_open", nullptr, 0),
               (opt.concurrency + max_fds - 9) / (max_fds - 8));
        fatal++;
    }
    const char *range = "/proc/sys/net/ipv4/ip_local_port_range";
    long lo = proc_number(range, nullptr, 0), hi = proc_number(range, nullptr, 1);
    if (lo > 0 && hi >= lo && hi < 65536) opt.port_lo = (int)lo, opt.port_hi = (int)hi;
    // Each source address has a port range of its own towards the server.
    long ports = lo > 0 && hi >= lo ? (hi - lo + 1) * (opt.nsources ? opt.nsources : 1) : 0;
    if (ports && at_once > ports) {
        warn_msg("%lld connections to one server address need %lld local ports but "
               "net.ipv4.ip_local_port_range (%ld-%ld) gives %ld%s; lower -c, add source "
               "addresses (-s 127.0.0.2-127.0.0.20 on loopback), or widen the range "
               "(sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\")", at_once, at_once, lo, hi,
               ports, opt.default_sources ? " over the 8 loopback sources it uses by default"
                      : opt.nsources ? " over the -s addresses" : "");
        fatal++;
    }
    if (opt.blocking) {
        rlimit rl;
        if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            (rlim_t)opt.blocking >= rl.rlim_cur) {
            warn_msg("--blocking %lld needs as many processes but RLIMIT_NPROC allows %llu per "
                   "user; lower --blocking or raise it (ulimit -u)", opt.blocking,
                   (unsigned long long)rl.rlim_cur);
            fatal++;
        }
    }
    // About 5 KB of kernel memory a socket (slab for the socket, its file and epoll
    // item; measured at a million connections), and on loopback the server's end too.
    long long sockets_all = at_once * (loopback_target() ? 2 : 1);
    long long avail_kib = proc_number("/proc/meminfo", "MemAvailable:", 0);
    if (avail_kib > 0 && sockets_all * 5 > avail_kib) {
        warn_msg("%lld sockets need about %lld MiB of kernel memory (5 KB each%s) but "
               "MemAvailable is %lld MiB; lower -c", sockets_all, sockets_all * 5 / 1024,
               loopback_target() ? ", the server's end included on loopback" : "",
               avail_kib / 1024);
        fatal++;
    }
    if (fatal) exit(EXIT_RUNTIME);

    long tw_reuse = proc_number("/proc/sys/net/ipv4/tcp_tw_reuse", nullptr, 0);
    bool reuse = tw_reuse == 1 || (tw_reuse == 2 && loopback_target());
    // With tcp_tw_reuse the kernel takes such ports back, but only after a search
    // that makes a 10,000-connection burst slow; a few connections never notice.
    long tw = (long)proc_number("/proc/net/sockstat", "TCP:", 2);  // TCP: inuse N orphan N tw N
    if (ports && tw > 1000 && at_once + tw > ports && (!reuse || at_once >= 1000))
        warn_msg("warning: %ld sockets in TIME_WAIT hold local ports; %lld more connections may "
               "make connect() slow or fail with no_ports: wait 60 s for them to expire",
               tw, at_once);
    long long total = opt.duration_s ? opt.concurrency : (opt.requests + opt.per_conn - 1) / opt.per_conn;
    if (ports && !reuse && total > ports)
        warn_msg("warning: %lld connections in all, each leaving a local port in TIME_WAIT for "
               "60 s, but only %ld ports: expect no_ports failures; use -r or -d to reuse "
               "connections, or sysctl -w net.ipv4.tcp_tw_reuse=1", total, ports);
    long somaxconn = proc_number("/proc/sys/net/core/somaxconn", nullptr, 0);
    long long burst = opt.duration_s ? connect_burst(opt) : at_once;
    if (loopback_target() && somaxconn > 0 && burst > somaxconn && !opt.blocking) {
        if (!opt.connect_rate)
            warn_msg("warning: %lld connections at once can overflow the server's listen queue "
                   "(net.core.somaxconn %ld): dropped SYNs are retried after 1 s; use --connect-rate "
                   "or raise it (sysctl -w net.core.somaxconn=%lld)", burst, somaxconn, burst);
        else {
            // ramp() spreads the connections evenly: only those due together count.
            char procs[48] = "", lower[64] = "";
            if (opt.workers > 1) snprintf(procs, sizeof procs, ", over %lld processes", opt.workers);
            if (long long most = somaxconn / opt.workers * opt.workers * 1000)
                snprintf(lower, sizeof lower, "lower --connect-rate to %lld or ", most);
            warn_msg("warning: --connect-rate %lld opens up to %lld connections at once (those due "
                   "in a 1 ms loop turn%s), more than the server's listen queue holds "
                   "(net.core.somaxconn %ld): dropped SYNs are retried after 1 s; %sraise it "
                   "(sysctl -w net.core.somaxconn=%lld)", opt.connect_rate, burst, procs,
                   somaxconn, lower, burst);
        }
    }
    long file_max = proc_number("/proc/sys/fs/file-nr", nullptr, 2), file_used = proc_number("/proc/sys/fs/file-nr", nullptr, 0);
    if (file_max > 0 && file_used >= 0 && file_max - file_used < 2 * at_once)
        warn_msg("warning: %ld descriptors left system-wide (fs.file-max %ld) for %lld "
               "connections and the server's side of them; raise fs.file-max",
               file_max - file_used, file_max, at_once);
}

char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) die_errno(EXIT_RUNTIME, "%s", path);
    size_t cap = 1 << 16, len = 0;
    char *buf = (char *)malloc(cap);
    for (;;) {
        if (!buf) die(EXIT_RUNTIME, "%s: out of memory", path);
        len += fread(buf + len, 1, cap - len - 1, f);
        if (len < cap - 1) break;
        cap *= 2;
        buf = (char *)realloc(buf, cap);
    }
    if (ferror(f)) die_errno(EXIT_RUNTIME, "read %s", path);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

// --hgrm: the latency histogram as HdrHistogram's percentile distribution, in us.
void write_hgrm(const Report &r) {
    if (!hgrm_file) return;
    bool ok = r.latency.print_percentiles(hgrm_file, 1000.0);
    if (fclose(hgrm_file) != 0 || !ok) die_errno(EXIT_RUNTIME, "--hgrm %s: write", hgrm_path);
    hgrm_file = nullptr;
}

int merge(int argc, char **argv) {
    static Report sum, one;  // 60 KiB of histograms each: not on the stack
    for (int i = optind; i < argc; i++) {
        char *text = slurp(argv[i]);
        char err[160];
        if (!parse_report(report_line(text), i == optind ? &sum : &one, err, sizeof err))
            die(EXIT_RUNTIME, "%s: not a cli_flood --json report: %s", argv[i], err);
        const Field *f = i > optind ? merge_report(&sum, one) : nullptr;
        if (f)
            die(EXIT_RUNTIME, "%s: a %s report cannot be merged with %s ones (%s): merge runs of one "
                "kind", argv[i], field_text(*f, one), field_text(*f, sum), argv[optind]);
        free(text);
    }
    print_report(stdout, sum, opt.json);
    write_hgrm(sum);
    return report_lost(sum) ? EXIT_RUNTIME : 0;
}

}  // namespace

int main(int argc, char **argv) {
    g_prog = "cli_flood";
    parse_args(argc, argv);
    // Opened once the options are known good, so a bad path fails before the run.
    if (hgrm_path && !(hgrm_file = fopen(hgrm_path, "w")))
        die_errno(EXIT_USAGE, "--hgrm %s: cannot write the histogram there", hgrm_path);
    if (merge_mode) return merge(argc, argv);
    preflight();
    if (!request_init((uint32_t)opt.request_bytes))
        die_errno(EXIT_RUNTIME, "-l %lld: allocating the request", opt.request_bytes);
    static Report r;
    format_endpoint(opt.target, r.target, sizeof r.target);
    // With -w the workers write the interval records, each its own.
    if (opt.workers == 1) interval_begin(opt, mono_ns());
    if (opt.blocking) run_blocking(opt, &r);
    else if (opt.workers > 1) run_workers(opt, &r);
    else run_events(opt, &r);
    interval_end(r, mono_ns());
    print_report(stdout, r, opt.json);
    write_hgrm(r);
    warn_send_lag(r, r.rate, r.concurrency);
    return report_lost(r) ? EXIT_RUNTIME : 0;
}
