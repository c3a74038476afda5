#!/bin/sh
# bench.sh: the experiment. Every server strategy under the same loads, at growing
# connection counts; medians of repeated runs into results/bench.{json,md} and SVG charts.
#
#   test/bench.sh [-q] [-d seconds] [-l levels] [-n repeats] [-o dir] [-R rate]
#                 [-s servers] [-w workloads] [-P]
# -P only redraws the tables and charts from an existing DIR/bench.json.
#
# Two workloads per point: "oneshot" (connect, send a timestamp, read it back, close,
# as the original experiment) and "held" (the connections stay open and share a fixed
# total request rate). The server runs pinned to CPU 0, cli_flood to CPU 1.
set -u
cd "$(dirname "$0")/.." || exit 1

usage() {
    echo "usage: test/bench.sh [-q] [-d seconds] [-l levels] [-n repeats] [-o dir] [-R rate] [-s servers] [-w workloads] [-P]" >&2
    exit 2
}

WORKLOADS="oneshot held" QUICK=0 LEVELS="100 1000 5000 10000" REPEATS=3 RATE=10000 DURATION=5 OUT=results SERVERS=
REPLOT=0
while getopts "qd:l:n:o:PR:s:w:" opt; do
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
    *) usage ;;
    esac
done
if [ "$QUICK" = 1 ]; then
    LEVELS=${QUICK_LEVELS:-"100 1000"} REPEATS=1 DURATION=2
fi
# Every server the Makefile builds joins the comparison.
[ -n "$SERVERS" ] || SERVERS=$(sed -n 's/^PROGS :=//p' Makefile | tr ' ' '\n' | grep '^srv_' | tr '\n' ' ')
BIN=${BIN:-.}  # where the programs are: the repository root after make
for s in $SERVERS cli_flood; do
    [ -x "$BIN/$s" ] || { echo "bench: $BIN/$s is not built: run make first" >&2; exit 1; }
done
for tool in jq taskset awk; do
    command -v $tool >/dev/null || { echo "bench: $tool is needed (apt-get install $tool)" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || echo "bench: fewer than 2 CPUs: server and client will share one" >&2

mkdir -p "$OUT"
RAW=$(mktemp) T=$(mktemp -d)
SRV_PID=
cleanup() {
    [ -n "$SRV_PID" ] && kill -KILL "$SRV_PID" 2>/dev/null && pkill -KILL -s "$SRV_PID" 2>/dev/null
    rm -rf "$T" "$RAW"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The server runs in a session of its own (setsid), which holds every process it
# starts (srv_fork's children are in a process group of their own). One cat and one
# awk each, whether the session has one process or 10,000.

# CPU ticks of the session: its live processes, plus the leader's reaped children.
session_ticks() {
    # Fields after "(comm) ": session 4, utime stime 12 13, cutime cstime 14 15.
    cat /proc/[0-9]*/stat 2>/dev/null |
        awk -v sid="$1" '{ pid = $1; sub(/.*\) /, "") }
            $4 == sid { t += $12 + $13 + (pid == sid ? $14 + $15 : 0) } END { print t + 0 }'
}

# Proportional set size of the session, in KiB (shared pages counted once).
session_pss() {
    pgrep -s "$1" | sed 's|.*|/proc/&/smaps_rollup|' | xargs -r cat 2>/dev/null |
        awk '/^Pss:/ { s += $2 } END { print s + 0 }'
}

point=0
run_point() {  # run_point WORKLOAD SERVER CONNECTIONS REPEAT
    wl=$1 srv=$2 conns=$3 rep=$4
    point=$((point + 1))
    # A fresh server address per point: the TIME_WAIT left by earlier one-shot runs
    # belongs to other address pairs, so connect() finds free ports at once.
    addr=127.0.0.$((point % 200 + 20))
    reason=""
    setsid taskset -c 0 "$BIN/$srv" -a "$addr" 0 >"$T/srv.out" 2>"$T/srv.err" &
    SRV_PID=$!
    port=
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\),.*/\1/p' "$T/srv.out")
        [ -n "$port" ] && break
        sleep 0.05
    done
    if [ -z "$port" ]; then
        reason="server did not start: $(head -c 200 "$T/srv.err")"
    else
        warm=$((conns < 1000 ? conns : 1000))
        taskset -c 1 "$BIN/cli_flood" -a "$addr" -p "$port" -n "$warm" -c "$warm" -t 10 >/dev/null 2>&1
        if [ "$wl" = oneshot ]; then
            n=$((conns * 2 > 3000 ? conns * 2 : 3000))
            set -- -n "$n" -c "$conns" -t 20
        else
            set -- -c "$conns" -d "$DURATION" -R "$RATE" -t 20
        fi
        t0=$(session_ticks "$SRV_PID")
        taskset -c 1 "$BIN/cli_flood" -a "$addr" -p "$port" --json "$@" >"$T/cli.json" 2>"$T/cli.err" &
        cli=$!
        peak=0
        while kill -0 "$cli" 2>/dev/null; do
            m=$(session_pss "$SRV_PID")
            [ "$m" -gt "$peak" ] && peak=$m
            sleep 0.1
        done
        wait "$cli"
        rc=$?
        t1=$(session_ticks "$SRV_PID")
        kill -0 "$SRV_PID" 2>/dev/null || reason="server died: $(tail -c 200 "$T/srv.err")"
        if ! jq -e . "$T/cli.json" >/dev/null 2>&1; then
            reason=${reason:-"cli_flood exit $rc: $(head -c 200 "$T/cli.err")"}
            echo '{}' >"$T/cli.json"
        elif [ "$rc" != 0 ]; then
            reason=${reason:-"$(jq -r '[.failures | to_entries[] | select(.value > 0) | "\(.key) \(.value)"] | join(", ")' "$T/cli.json") failed"}
        fi
    fi
    kill -TERM "$SRV_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$SRV_PID" 2>/dev/null && pkill -KILL -s "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
    SRV_PID=
    hz=$(getconf CLK_TCK)
    jq -c -n --arg wl "$wl" --arg srv "$srv" --argjson conns "$conns" --argjson rep "$rep" \
        --arg reason "$reason" --argjson ticks "$(( ${t1:-0} - ${t0:-0} ))" --argjson hz "$hz" \
        --argjson pss "${peak:-0}" --slurpfile cli "$T/cli.json" '
        ($cli[0] // {}) as $c |
        {workload: $wl, server: $srv, connections: $conns, repeat: $rep,
         failed: ($reason != ""), reason: $reason,
         requests_per_s: ($c.requests_per_s // 0), succeeded: ($c.succeeded // 0),
         failures: ($c.failed // 0),
         p50_ms: (($c.latency_us.p50 // 0) / 1000), p99_ms: (($c.latency_us.p99 // 0) / 1000),
         p999_ms: (($c.latency_us.p999 // 0) / 1000),
         cpu_us_per_req: (if ($c.succeeded // 0) > 0 then $ticks * 1e6 / $hz / $c.succeeded else null end),
         peak_mem_kib: $pss}' >>"$RAW"
    printf '%-8s %-11s %6s #%s  %s\n' "$wl" "$srv" "$conns" "$rep" \
        "$(tail -1 "$RAW" | jq -r 'if .failed then "FAILED: \(.reason)" else "\(.requests_per_s|floor) req/s  p99 \(.p99_ms * 100 | round / 100) ms  cpu \(.cpu_us_per_req|floor) us/req  mem \(.peak_mem_kib) KiB" end')" >&2
}

started=$(date +%s)
[ "$REPLOT" = 1 ] && WORKLOADS=
for wl in $WORKLOADS; do
    for conns in $LEVELS; do
        for rep in $(seq "$REPEATS"); do
            for srv in $SERVERS; do
                run_point "$wl" "$srv" "$conns" "$rep"
            done
        done
    done
done
elapsed=$(($(date +%s) - started))

# Medians per (workload, server, connections); a point fails if any repeat failed.
cmd="test/bench.sh $*"
[ $# = 0 ] && cmd="make bench"
[ "$QUICK" = 1 ] && cmd="make bench QUICK=1"
[ "$REPLOT" = 1 ] && WORKLOADS="oneshot held"
[ "$REPLOT" = 1 ] || jq -s --arg cpu "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)" \
    --argjson cores "$(nproc)" --arg kernel "$(uname -sr)" \
    --argjson nofile "$(ulimit -Hn)" --arg somaxconn "$(cat /proc/sys/net/core/somaxconn)" \
    --arg ports "$(tr '\t' ' ' </proc/sys/net/ipv4/ip_local_port_range)" \
    --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg cmd "$cmd" --argjson elapsed "$elapsed" \
    --arg levels "$LEVELS" --argjson repeats "$REPEATS" --argjson rate "$RATE" --argjson duration "$DURATION" '
    def median: sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
    {machine: {cpu: $cpu, cores: $cores, kernel: $kernel, nofile_hard: $nofile,
               somaxconn: ($somaxconn | tonumber), ip_local_port_range: $ports},
     date: $date, command: $cmd, elapsed_s: $elapsed,
     settings: {levels: ($levels | split(" ") | map(select(. != "") | tonumber)), repeats: $repeats,
                held_rate: $rate, held_duration_s: $duration},
     points: (group_by([.workload, .server, .connections]) | map({
        workload: .[0].workload, server: .[0].server, connections: .[0].connections,
        failed: any(.failed), reason: (map(select(.failed) | .reason) | unique | join("; ")),
        requests_per_s: (map(.requests_per_s) | median),
        p50_ms: (map(.p50_ms) | median), p99_ms: (map(.p99_ms) | median),
        p999_ms: (map(.p999_ms) | median),
        cpu_us_per_req: (map(.cpu_us_per_req | select(. != null)) | median),
        peak_mem_kib: (map(.peak_mem_kib) | median),
        runs: .}))}' "$RAW" >"$OUT/bench.json" || exit 1

# Tables.
{
    echo "# c10k bench"
    echo
    jq -r '"Machine: \(.machine.cpu), \(.machine.cores) cores, \(.machine.kernel), RLIMIT_NOFILE \(.machine.nofile_hard), somaxconn \(.machine.somaxconn).  "' "$OUT/bench.json"
    jq -r '"Command: `\(.command)` (\(.date), \(.elapsed_s) s). Median of \(.settings.repeats) run(s); server on CPU 0, cli_flood on CPU 1."' "$OUT/bench.json"
    for wl in $WORKLOADS; do
        echo
        if [ "$wl" = oneshot ]; then
            echo "## One-shot: connect, send, echo, close (2 x connections requests, at least 3000)"
        else
            jq -r '"## Held: connections stay open, \(.settings.held_rate) requests/s in all, \(.settings.held_duration_s) s"' "$OUT/bench.json"
        fi
        echo
        echo "| server | connections | requests/s | p50 ms | p99 ms | p99.9 ms | server CPU us/request | peak memory MiB | result |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
        jq -r --arg wl "$wl" '.points[] | select(.workload == $wl) |
            def r(p): if . == null then "-" else (. * p | round) / p | tostring end;
            "| \(.server) | \(.connections) | \(.requests_per_s | floor) | \(.p50_ms | r(100)) | \(.p99_ms | r(100)) | \(.p999_ms | r(100)) | \(.cpu_us_per_req | r(10)) | \(.peak_mem_kib / 1024 | r(10)) | \(if .failed then "failed: " + .reason else "ok" end) |"' \
            "$OUT/bench.json"
    done
    echo
    echo "Charts: p99 latency, throughput and server memory against connections, one line per strategy:"
    echo
    for wl in $WORKLOADS; do
        for m in p99 throughput memory; do echo "![$wl $m]($wl-$m.svg)"; done
    done
} >"$OUT/bench.md"

# Charts: one per workload and metric; a failed point is drawn as a cross.
chart() {  # chart WORKLOAD METRIC JQ-EXPR TITLE YLABEL LOGY
    jq -r --arg wl "$1" ".points | sort_by(.server, .connections)[] | select(.workload == \$wl) |
        \"\(.server) \(.connections) \(if .failed then -1 else ($3) end)\"" "$OUT/bench.json" |
        awk -v title="$4" -v xlabel="concurrent connections (log scale)" -v ylabel="$5" -v logy="$6" \
            -f test/svgplot.awk >"$OUT/$1-$2.svg"
}
for wl in $WORKLOADS; do
    name=$([ "$wl" = oneshot ] && echo "one-shot requests" || echo "held connections")
    chart "$wl" p99 '.p99_ms' "p99 latency, $name" "p99 latency (ms, log scale)" 1
    chart "$wl" throughput '.requests_per_s' "Throughput, $name" "requests per second" 0
    chart "$wl" memory '.peak_mem_kib / 1024' "Server memory, $name" "peak memory, all processes (MiB PSS, log scale)" 1
done
echo "bench: wrote $OUT/bench.json, $OUT/bench.md and $OUT/*.svg in $elapsed s" >&2
