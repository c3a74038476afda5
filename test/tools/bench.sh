#!/bin/sh
# bench.sh: the experiment. Every server strategy under the same loads, at growing
# connection counts; medians of repeated runs into results/bench.{json,md} and SVG charts.
#
#   test/tools/bench.sh [-q] [-d seconds] [-l levels] [-n repeats] [-o dir] [-R rate]
#                 [-s servers] [-w workloads] [-z sizes] [-P]
# -P only redraws the tables and charts from an existing DIR/bench.json.
#
# Four workloads: "oneshot" (connect, send a timestamp, read it back, close, as the
# original experiment), "held" (the connections stay open and share a fixed total
# request rate) and "closed" (they stay open, each sending again as soon as its echo
# is back: the most a strategy echoes), at each connection level; and "size", the
# closed loop at 1,000 connections with requests of each of -z's sizes in bytes.
# The server runs pinned to CPU 0, cli_flood to CPU 1. Each run records the
# server's CPU in ns (cpu_ns) and the kernel memory it gained (kernel_mem_kib);
# see test/tools/measure.sh.
set -u
cd "$(dirname "$0")/../.." || exit 1

usage() {
    echo "usage: test/tools/bench.sh [-q] [-d seconds] [-l levels] [-n repeats] [-o dir] [-R rate] [-s servers] [-w workloads] [-z sizes] [-P]" >&2
    exit 2
}

WORKLOADS="oneshot held closed size" QUICK=0 LEVELS="100 1000 5000 10000 19000" REPEATS=1 RATE=10000 DURATION=4 OUT=results SERVERS=
SIZES="64 1024 16384 65536" SIZE_CONNS=1000 REPLOT=0
while getopts "qd:l:n:o:PR:s:w:z:" opt; do
    case $opt in
    q) QUICK=1 ;;
    d) DURATION=$OPTARG ;;
    l) LEVELS=$OPTARG ;;
    n) REPEATS=$OPTARG ;;
    o) OUT=$OPTARG ;;
    P) REPLOT=1 ;;
    R) RATE=$OPTARG ;;
    s) SERVERS=$OPTARG ;;
    w) WORKLOADS=$OPTARG ;;
    z) SIZES=$OPTARG ;;
    *) usage ;;
    esac
done
if [ "$QUICK" = 1 ]; then
    LEVELS=${QUICK_LEVELS:-"100 500"} REPEATS=1 DURATION=1 SIZES="64 16384" SIZE_CONNS=100
fi
BIN=${BIN:-build}  # where the programs are: the build directory make builds
. test/lib/core.sh
# Every strategy the build declares (srv/CMakeLists.txt) joins the comparison.
C10K_PROGRAMS=${C10K_PROGRAMS:-$BIN/programs.txt}
[ -n "$SERVERS" ] || SERVERS=$(programs server | tr '\n' ' ') || exit 1
need_built bench "$BIN" $SERVERS cli_flood
need_tools bench jq taskset awk
CMD="test/tools/bench.sh $*"
[ $# = 0 ] && CMD="make bench"
[ "$QUICK" = 1 ] && CMD="make bench QUICK=1"
CHARTS="closed-throughput held-cpu memory-all-told held-spectrum size-throughput held-p99 oneshot-p99 oneshot-throughput"
[ "$(nproc)" -ge 2 ] || echo "bench: fewer than 2 CPUs: server and client will share one" >&2

mkdir -p "$OUT"
RAW=$(mktemp) T=$(mktemp -d)
SRV_PID=
. test/tools/measure.sh
cleanup() {
    [ -n "$SRV_PID" ] && stop_server
    cg_remove
    rm -rf "$T" "$RAW"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The server runs in a session of its own (setsid), which holds every process it
# starts (srv_fork's children are in a process group of their own), and in cgroups
# of its own where they are mounted (test/tools/measure.sh): CPU is then cpuacct.usage,
# exact in ns with exited children and threads counted, and kernel memory the peak
# of memory.kmem over the run. Without them: the session's tasks' schedstat (ns;
# a process's utime + stime, ticks, where larger: it keeps its exited threads) plus
# the leader's reaped children (ticks), and /proc/meminfo deltas, both ends of
# every connection included.
hz=$(getconf CLK_TCK)
session_cpu_ns() {
    [ -n "$CG_CPU" ] && { cg_cpu_ns; return; }
    pids=$(pgrep -s "$1")
    # stat fields after "(comm) ": utime stime 12 13, cutime cstime 14 15.
    for p in $pids; do
        echo "$p $(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f12-15) $(tasks_cpu_ns "$p")"
    done | awk -v sid="$1" -v tick=$((1000000000 / hz)) '
        NF == 6 { t = ($2 + $3) * tick; s += ($6 > t ? $6 : t) + ($1 == sid ? ($4 + $5) * tick : 0) }
        END { printf "%.0f\n", s }'
}

# Proportional set size of the session, in KiB (shared pages counted once).
session_pss() {
    pgrep -s "$1" | sed 's|.*|/proc/&/smaps_rollup|' | xargs -r cat 2>/dev/null |
        awk '/^Pss:/ { s += $2 } END { print s + 0 }'
}
kernel_now() { if [ -n "$CG_MEM" ]; then cg_kmem_kib usage_in_bytes; else kernel_kib; fi; }

# The machine-wide load lock, taken for each point so that others run between
# points; C10K_LOCK_HELD=1 says the caller holds it for the whole run.
lock_point() {
    [ "${C10K_LOCK_HELD:-0}" = 1 ] && return
    exec 8>"${TMPDIR:-/tmp}/c10k-load.lock"
    flock -w 900 8 || { echo "bench: waited 15 minutes for the load lock" >&2; exit 1; }
}
unlock_point() { [ "${C10K_LOCK_HELD:-0}" = 1 ] || exec 8>&-; }

# Latency at quantile q from cli_flood's histogram (nearest rank; the bucket's
# midpoint, clamped to min and max, as cli_flood's own percentiles), in ms.
SPECTRUM="0.5 0.75 0.9 0.95 0.99 0.995 0.999 0.9995 0.9999"
JQ_QUANTILE='def quantile($q): .histogram as $h | if ($h.count // 0) == 0 then null else
    (($q * $h.count) | ceil | if . < 1 then 1 else . end) as $rank |
    (first(foreach $h.buckets[] as $b ([0, null]; [.[0] + $b[1], $b[0]]; select(.[0] >= $rank) | .[1])) // $h.max) as $lo |
    (if $lo < 128 then $lo else $lo + pow(2; ($lo | log2 | floor) - 6) / 2 end) |
    [., $h.min] | max | [., $h.max] | min | . / 1e6 end;'

point=0 runs_done=0
run_point() {  # run_point WORKLOAD SERVER CONNECTIONS REPEAT [REQUEST-BYTES]
    wl=$1 srv=$2 conns=$3 rep=$4 bytes=${5:-0}
    point=$((point + 1))
    # A fresh server address per point: the TIME_WAIT left by earlier one-shot runs
    # belongs to other address pairs, so connect() finds free ports at once.
    addr=127.0.0.$((point % 200 + 20))
    reason=""
    lock_point
    cg_create "c10k-bench-$$-$point"
    method_cpu=$([ -n "$CG_CPU" ] && echo "cgroup v1 cpuacct.usage" || echo "schedstat of live tasks, stat ticks of exited ones")
    method_mem=$([ -n "$CG_MEM" ] && echo "cgroup v1 memory.kmem.max_usage_in_bytes" || echo "/proc/meminfo deltas (Slab+PageTables+KernelStack), both ends")
    # Emptied here: the job's own redirection may come after the first look, which
    # would find the previous server's start line and port.
    : >"$T/srv.out"
    cg_exec setsid taskset -c 0 "$BIN/$srv" -a "$addr" 0 >"$T/srv.out" 2>"$T/srv.err" &
    SRV_PID=$!
    port=$(wait_start_line "$T/srv.out" "$SRV_PID" 5)
    c0= c1= kbase= kpeak= idle=
    if [ -z "$port" ]; then
        reason="server did not start: $(head -c 200 "$T/srv.err")"
    else
        warm=$((conns < 1000 ? conns : 1000))
        taskset -c 1 "$BIN/cli_flood" -a "$addr" -p "$port" -n "$warm" -c "$warm" -t 10 >/dev/null 2>&1
        case $wl in
        oneshot) n=$((conns * 2 > 3000 ? conns * 2 : 3000)); set -- -n "$n" -c "$conns" -t 20 ;;
        held) set -- -c "$conns" -d "$DURATION" -R "$RATE" -t 20 ;;
        closed) set -- -c "$conns" -d "$DURATION" -t 20 ;;
        size) set -- -c "$conns" -d "$DURATION" -l "$bytes" -t 20 ;;
        esac
        [ -n "$CG_MEM" ] && cg_kmem_reset
        idle=$(session_pss "$SRV_PID") kbase=$(kernel_now) kpeak=$kbase
        c0=$(session_cpu_ns "$SRV_PID")
        taskset -c 1 "$BIN/cli_flood" -a "$addr" -p "$port" --json "$@" >"$T/cli.json" 2>"$T/cli.err" &
        cli=$!
        peak=0
        while kill -0 "$cli" 2>/dev/null; do
            m=$(session_pss "$SRV_PID")
            [ "$m" -gt "$peak" ] && peak=$m
            [ -z "$CG_MEM" ] && k=$(kernel_kib) && [ "$k" -gt "$kpeak" ] && kpeak=$k
            sleep 0.1
        done
        wait "$cli"
        rc=$?
        c1=$(session_cpu_ns "$SRV_PID")
        [ -n "$CG_MEM" ] && kpeak=$(cg_kmem_kib max_usage_in_bytes)
        kill -0 "$SRV_PID" 2>/dev/null || reason="server died: $(tail -c 200 "$T/srv.err")"
        if ! jq -e . "$T/cli.json" >/dev/null 2>&1; then
            reason=${reason:-"cli_flood exit $rc: $(head -c 200 "$T/cli.err")"}
            echo '{}' >"$T/cli.json"
        elif [ "$rc" != 0 ]; then
            reason=${reason:-"$(jq -r '[.failures | to_entries[] | select(.value > 0) | "\(.key) \(.value)"] | join(", ")' "$T/cli.json") failed"}
        fi
    fi
    stop_server
    cg_remove
    unlock_point
    jq -c -n --arg wl "$wl" --arg srv "$srv" --argjson conns "$conns" --argjson rep "$rep" --argjson bytes "$bytes" \
        --arg reason "$reason" --argjson cpu_ns "$(( ${c1:-0} - ${c0:-0} ))" \
        --argjson pss "${peak:-0}" --argjson idle "${idle:-0}" --argjson kmem "$(( ${kpeak:-0} - ${kbase:-0} ))" \
        --arg cpu_method "$method_cpu" --arg mem_method "$method_mem" --arg spectrum "$SPECTRUM" \
        --slurpfile cli "$T/cli.json" "$JQ_QUANTILE"'
        ($cli[0] // {}) as $c |
        {workload: $wl, server: $srv, connections: $conns, request_bytes: $bytes, repeat: $rep,
         failed: ($reason != ""), reason: $reason,
         requests_per_s: ($c.requests_per_s // 0), succeeded: ($c.succeeded // 0),
         received_mib_per_s: (($c.received_bytes_per_s // 0) / 1048576),
         failures: ($c.failed // 0),
         p50_ms: (($c.latency_us.p50 // 0) / 1000), p99_ms: (($c.latency_us.p99 // 0) / 1000),
         p999_ms: (($c.latency_us.p999 // 0) / 1000), p9999_ms: ($c | quantile(0.9999)),
         spectrum_ms: [$spectrum | split(" ")[] | tonumber as $q | [$q, ($c | quantile($q))]],
         cpu_ns: $cpu_ns,
         cpu_us_per_req: (if ($c.succeeded // 0) > 0 then $cpu_ns / 1000 / $c.succeeded else null end),
         peak_mem_kib: $pss, idle_mem_kib: $idle, kernel_mem_kib: $kmem,
         cpu_method: $cpu_method, kernel_mem_method: $mem_method}' >>"$RAW"
    runs_done=$((runs_done + 1))
    spent=$(($(date +%s) - started))
    printf 'run %d of %d, %s left: %-8s %-11s %6s%s #%s  %s\n' "$runs_done" "$runs_total" \
        "$(clock $((spent * (runs_total - runs_done) / runs_done)))" "$wl" "$srv" "$conns" \
        "$([ "$bytes" = 0 ] || echo " x $bytes B")" "$rep" \
        "$(tail -1 "$RAW" | jq -r 'if .failed then "FAILED: \(.reason)" else "\(.requests_per_s|floor) req/s  p99 \(.p99_ms * 100 | round / 100) ms  cpu \(.cpu_us_per_req * 10 | round / 10) us/req  mem \(.peak_mem_kib) + kernel \(.kernel_mem_kib) KiB" end')" >&2
}
clock() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }

stop_server() {
    signal_wait "$SRV_PID" TERM || kill -KILL "$SRV_PID" 2>/dev/null
    pkill -KILL -s "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
    SRV_PID=
}

[ "$REPLOT" = 1 ] && WORKLOADS=
# points WORKLOAD: its "connections bytes" pairs, a line each.
points() {
    if [ "$1" = size ]; then for b in $SIZES; do echo "$SIZE_CONNS $b"; done
    else for c in $LEVELS; do echo "$c 0"; done; fi
}
runs_total=0
for wl in $WORKLOADS; do runs_total=$((runs_total + $(points "$wl" | wc -l))); done
runs_total=$((runs_total * REPEATS * $(echo $SERVERS | wc -w)))
started=$(date +%s)
for wl in $WORKLOADS; do
    for pt in $(points "$wl" | tr ' ' :); do
        for rep in $(seq "$REPEATS"); do
            for srv in $SERVERS; do
                run_point "$wl" "$srv" "${pt%:*}" "$rep" "${pt#*:}"
            done
        done
    done
done
elapsed=$(($(date +%s) - started))

# Medians per (workload, server, connections); a point fails if any repeat failed.
[ "$REPLOT" = 1 ] || jq -s --arg cpu "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)" \
    --argjson cores "$(nproc)" --arg kernel "$(uname -sr)" \
    --argjson nofile "$(ulimit -Hn)" --arg somaxconn "$(cat /proc/sys/net/core/somaxconn)" \
    --arg ports "$(tr '\t' ' ' </proc/sys/net/ipv4/ip_local_port_range)" \
    --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg cmd "$CMD" --argjson elapsed "$elapsed" \
    --arg levels "$LEVELS" --argjson repeats "$REPEATS" --argjson rate "$RATE" --argjson duration "$DURATION" \
    --arg sizes "$SIZES" --argjson size_conns "$SIZE_CONNS" '
    def median: sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
    {machine: {cpu: $cpu, cores: $cores, kernel: $kernel, nofile_hard: $nofile,
               somaxconn: ($somaxconn | tonumber), ip_local_port_range: $ports},
     date: $date, command: $cmd, elapsed_s: $elapsed,
     settings: {levels: ($levels | split(" ") | map(select(. != "") | tonumber)), repeats: $repeats,
                held_rate: $rate, held_duration_s: $duration,
                sizes: ($sizes | split(" ") | map(select(. != "") | tonumber)), size_connections: $size_conns,
                cpu_method: (map(.cpu_method) | unique | join("; ")),
                kernel_mem_method: (map(.kernel_mem_method) | unique | join("; "))},
     points: (group_by([.workload, .server, .connections, .request_bytes]) | map({
        workload: .[0].workload, server: .[0].server, connections: .[0].connections,
        request_bytes: .[0].request_bytes,
        failed: any(.failed), reason: (map(select(.failed) | .reason) | unique | join("; ")),
        requests_per_s: (map(.requests_per_s) | median),
        received_mib_per_s: (map(.received_mib_per_s) | median),
        p50_ms: (map(.p50_ms) | median), p99_ms: (map(.p99_ms) | median),
        p999_ms: (map(.p999_ms) | median), p9999_ms: (map(.p9999_ms) | median),
        spectrum_ms: (. as $runs | [range(.[0].spectrum_ms | length) as $i |
            [$runs[0].spectrum_ms[$i][0], ($runs | map(.spectrum_ms[$i][1]) | median)]]),
        cpu_ns: (map(.cpu_ns) | median),
        cpu_us_per_req: (map(.cpu_us_per_req | select(. != null)) | median),
        peak_mem_kib: (map(.peak_mem_kib) | median),
        kernel_mem_kib: (map(.kernel_mem_kib) | median),
        all_told_kib_per_conn: (map((.peak_mem_kib - .idle_mem_kib + .kernel_mem_kib) / .connections) | median),
        runs: .}))}' "$RAW" >"$OUT/bench.json" || exit 1
[ "$REPLOT" = 1 ] && WORKLOADS=$(jq -r '[.points[].workload] | unique | join(" ")' "$OUT/bench.json")
# The spectrum is drawn at 10,000 held connections, or the largest level below.
SPOT=$(jq '[.points[] | select(.workload == "held" and .connections <= 10000) | .connections] | max // 0' "$OUT/bench.json")

# Tables.
{
    echo "# c10k bench: the full tables"
    echo
    echo "Written by \`make bench\` (test/tools/bench.sh) with bench.json and the charts beside it; do not edit by hand."
    echo
    jq -r '"Machine: \(.machine.cpu), \(.machine.cores) cores, \(.machine.kernel), RLIMIT_NOFILE \(.machine.nofile_hard), somaxconn \(.machine.somaxconn).  "' "$OUT/bench.json"
    jq -r '"Command: `\(.command)` (\(.date), \(.elapsed_s) s). Median of \(.settings.repeats) run(s); server on CPU 0, cli_flood on CPU 1.  "' "$OUT/bench.json"
    jq -r '"Server CPU: \(.settings.cpu_method). Kernel memory: \(.settings.kernel_mem_method), the peak over the run less the idle server; user memory: peak PSS of all its processes."' "$OUT/bench.json"
    for wl in $WORKLOADS; do
        echo
        case $wl in
        oneshot) echo "## One-shot: connect, send, echo, close (2 x connections requests, at least 3000)" ;;
        held) jq -r '"## Held: connections stay open, \(.settings.held_rate) requests/s in all, \(.settings.held_duration_s) s"' "$OUT/bench.json" ;;
        closed) jq -r '"## Closed loop: connections stay open, each sends again as soon as its echo is back, \(.settings.held_duration_s) s"' "$OUT/bench.json" ;;
        size)
            jq -r '"## Request size: the closed loop at \(.settings.size_connections) connections, requests of \(.settings.sizes | map(tostring) | join(", ")) bytes, \(.settings.held_duration_s) s"' "$OUT/bench.json"
            echo
            echo "| server | request bytes | requests/s | MiB/s echoed | p50 ms | p99 ms | server CPU us/request | server CPU us/MiB | user MiB | kernel MiB | result |"
            echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
            jq -r '.points[] | select(.workload == "size") |
                def r(p): if . == null then "-" else (. * p | round) / p | tostring end;
                "| \(.server) | \(.request_bytes) | \(.requests_per_s | floor) | \(.received_mib_per_s | r(10)) | \(.p50_ms | r(100)) | \(.p99_ms | r(100)) | \(.cpu_us_per_req | r(10)) | \(if .cpu_us_per_req == null then null else .cpu_us_per_req * 1048576 / .request_bytes end | r(1)) | \(.peak_mem_kib / 1024 | r(10)) | \(.kernel_mem_kib / 1024 | r(10)) | \(if .failed then "failed: " + .reason else "ok" end) |"' \
                "$OUT/bench.json"
            continue ;;
        esac
        echo
        echo "| server | connections | requests/s | p50 ms | p99 ms | p99.9 ms | p99.99 ms | server CPU us/request | user MiB | kernel MiB | KiB/connection all told | result |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
        jq -r --arg wl "$wl" '.points[] | select(.workload == $wl) |
            def r(p): if . == null then "-" else (. * p | round) / p | tostring end;
            "| \(.server) | \(.connections) | \(.requests_per_s | floor) | \(.p50_ms | r(100)) | \(.p99_ms | r(100)) | \(.p999_ms | r(100)) | \(.p9999_ms | r(100)) | \(.cpu_us_per_req | r(10)) | \(.peak_mem_kib / 1024 | r(10)) | \(.kernel_mem_kib / 1024 | r(10)) | \(.all_told_kib_per_conn | r(10)) | \(if .failed then "failed: " + .reason else "ok" end) |"' \
            "$OUT/bench.json"
    done
    echo
    echo "Charts, one line per strategy:"
    echo
    for c in $CHARTS; do echo "![$c]($c.svg)"; done
} >"$OUT/README.md"

# Charts against connections (the size workload: against request bytes); a failed
# point is drawn as a cross.
chart() {  # chart NAME WORKLOAD JQ-EXPR TITLE YLABEL LOGY
    [ -n "$(echo " $WORKLOADS " | grep " $2 ")" ] || return 0
    x=connections xlabel="concurrent connections (log scale)"
    [ "$2" = size ] && x=request_bytes xlabel="request size, bytes (log scale)"
    jq -r --arg wl "$2" ".points | sort_by(.server, .$x)[] | select(.workload == \$wl) |
        \"\(.server) \(.$x) \(if .failed then -1 else ($3) end)\"" "$OUT/bench.json" |
        awk -v title="$4" -v xlabel="$xlabel" -v ylabel="$5" -v logy="$6" \
            -f test/tools/svgplot.awk >"$OUT/$1.svg"
}
chart oneshot-p99 oneshot '.p99_ms' "p99 latency, one-shot requests" "p99 latency (ms, log scale)" 1
chart oneshot-throughput oneshot '.requests_per_s' "Throughput, one-shot requests" "requests per second" 0
chart closed-throughput closed '.requests_per_s' "Closed loop: the most each echoes" "requests per second" 0
chart held-p99 held '.p99_ms' "p99 latency, held connections at a fixed rate" "p99 latency (ms, log scale)" 1
chart held-cpu held '.cpu_us_per_req' "Server CPU per request, held connections" "CPU per request (us, scheduler ns)" 0
chart memory-all-told held '.all_told_kib_per_conn' "Server memory per held connection" "user + kernel KiB per connection (log scale)" 1
chart size-throughput size '.received_mib_per_s' "Closed loop by request size, $(jq .settings.size_connections "$OUT/bench.json") connections" "MiB/s echoed (log scale)" 1
# The spectrum: x is 1/(1-p), so each tick is one more nine.
[ "$SPOT" -gt 0 ] && jq -r --argjson n "$SPOT" '.points | sort_by(.server)[] |
    select(.workload == "held" and .connections == $n and (.failed | not)) |
    .server as $s | .spectrum_ms[] | "\($s) \(1 / (1 - .[0])) \(.[1])"' "$OUT/bench.json" |
    awk -v title="Latency by percentile, $SPOT held connections" -v xlabel="percentile" \
        -v ylabel="latency (ms, log scale)" -v logy=1 \
        -v xticks="2=50% 10=90% 100=99% 1000=99.9% 10000=99.99%" -f test/tools/svgplot.awk >"$OUT/held-spectrum.svg"
echo "bench: wrote $OUT/bench.json, $OUT/README.md and $OUT/*.svg in $elapsed s" >&2
