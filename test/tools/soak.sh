#!/bin/sh
# soak.sh: each server holds 10,000 connections at 20,000 requests/s for SOAK_S
# seconds (default 3600), with a record every 10 s: the client's latency (cli_flood
# -i 10 --json) and, sampled on the same 10 s grid, the server's RSS, descriptors
# and kernel memory (its memory cgroup's kmem, as the bench measures it; the
# machine's Slab + PageTables + KernelStack without one). Writes DIR/soak.json and
# DIR/soak.svg (per server: p50, p99, p99.9 per interval; RSS and kernel memory).
#
#   SOAK_S=3600 test/tools/soak.sh [-o dir] [-s servers]
# Servers: every event loop and srv_thread (all but srv_fork). A server passes when
#  - nothing is lost (no failed request, no connection that failed or dropped);
#  - RSS and kernel memory grow by at most 1% from the end of the warm-up (the first
#    window) to the end;
#  - p99 in the last window is within 1.5 times p99 in the first after warm-up.
# A window is 10 minutes, or SOAK_S / 6 when SOAK_S is under an hour; a window's
# p99 is the median of its intervals' p99. Each server takes the load lock
# (/tmp/c10k-load.lock) for its run; C10K_LOCK_HELD=1 says the caller holds it.
# Env: SOAK_S, SOAK_CONNS (10000), SOAK_RATE (20000), SOAK_INTERVAL (10), BIN.
set -u
cd "$(dirname "$0")/../.." || exit 1
OUT=results SERVERS=
while getopts "o:s:" opt; do
    case $opt in
    o) OUT=$OPTARG ;;
    s) SERVERS=$OPTARG ;;
    *) echo "usage: test/tools/soak.sh [-o dir] [-s servers]" >&2; exit 2 ;;
    esac
done
SOAK_S=${SOAK_S:-3600} CONNS=${SOAK_CONNS:-10000} RATE=${SOAK_RATE:-20000} IV=${SOAK_INTERVAL:-10}
BIN=${BIN:-build}
. test/lib/core.sh
. test/tools/measure.sh
C10K_PROGRAMS=${C10K_PROGRAMS:-$BIN/programs.txt}
[ -n "$SERVERS" ] || SERVERS=$(programs server | grep -vx srv_fork | tr '\n' ' ') || exit 1
need_built soak "$BIN" $SERVERS cli_flood
need_tools soak jq taskset awk
WIN=$((SOAK_S >= 3600 ? 600 : SOAK_S / 6))
[ "$WIN" -ge $((2 * IV)) ] || { echo "soak: SOAK_S=$SOAK_S leaves windows of $WIN s, under two intervals of $IV s" >&2; exit 2; }
mkdir -p "$OUT"
T=$(mktemp -d)
SRV_PID= CLI_PID=
cleanup() {
    [ -n "$CLI_PID" ] && kill "$CLI_PID" 2>/dev/null
    [ -n "$SRV_PID" ] && { signal_wait "$SRV_PID" TERM || signal_wait "$SRV_PID" KILL; }
    cg_remove
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
kernel_now() { if [ -n "$CG_MEM" ]; then cg_kmem_kib usage_in_bytes; else kernel_kib; fi; }

: >"$T/servers.jsonl"
k=0 failed_any=0
for srv in $SERVERS; do
    k=$((k + 1))
    addr=127.0.0.$((k + 60))
    if [ "${C10K_LOCK_HELD:-0}" != 1 ]; then
        exec 8>"${TMPDIR:-/tmp}/c10k-load.lock"
        echo "soak: $srv: waiting for the load lock" >&2
        flock -w 3600 8 || { echo "soak: waited an hour for the load lock" >&2; exit 1; }
    fi
    cg_create "c10k-soak-$$-$srv"
    # Emptied here: the job's own redirection may come after the first look, which
    # would find the previous server's start line and port.
    : >"$T/srv.out"
    cg_exec setsid taskset -c 0 "$BIN/$srv" -a "$addr" 0 >"$T/srv.out" 2>"$T/srv.err" &
    SRV_PID=$!
    port=$(wait_start_line "$T/srv.out" "$SRV_PID" 5) || { echo "soak: $srv did not start: $(cat "$T/srv.err")" >&2; exit 1; }
    echo "soak: $srv on $addr:$port, $CONNS connections at $RATE requests/s for $SOAK_S s" >&2
    start=$(date +%s)
    taskset -c 1 "$BIN/cli_flood" -a "$addr" -p "$port" -c "$CONNS" -d "$SOAK_S" -R "$RATE" \
        --connect-rate 5000 -t 20 -i "$IV" --json >"$T/cli.jsonl" 2>"$T/cli.err" &
    CLI_PID=$!
    # The server's figures on the client's grid: every IV s from the client's start.
    : >"$T/samples"
    n=0
    while kill -0 "$CLI_PID" 2>/dev/null; do
        n=$((n + 1))
        while [ $(($(date +%s) - start)) -lt $((n * IV)) ] && kill -0 "$CLI_PID" 2>/dev/null; do sleep 0.2; done
        kill -0 "$CLI_PID" 2>/dev/null || break
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SRV_PID/status" 2>/dev/null)
        fds=$(ls "/proc/$SRV_PID/fd" 2>/dev/null | wc -l)
        echo "$((n * IV)) ${rss:-0} $fds $(kernel_now)" >>"$T/samples"
    done
    wait "$CLI_PID"
    cli_rc=$? CLI_PID=
    signal_wait "$SRV_PID" TERM || signal_wait "$SRV_PID" KILL
    wait "$SRV_PID" 2>/dev/null
    SRV_PID=
    cg_remove
    [ "${C10K_LOCK_HELD:-0}" = 1 ] || exec 8>&-
    tail -1 "$T/cli.jsonl" >"$T/report.json"
    jq -e 'has("succeeded")' "$T/report.json" >/dev/null 2>&1 ||
        { echo "soak: $srv: no report from cli_flood (exit $cli_rc): $(tail -3 "$T/cli.err")" >&2; exit 1; }
    cp "$T/cli.jsonl" "$OUT/soak-$srv.jsonl"
    # The verdict, from the samples and the interval records.
    jq -n -c --arg srv "$srv" --argjson win "$WIN" --argjson rc "$cli_rc" \
        --slurpfile rep "$T/report.json" --arg stats "$(grep ' stats ' "$T/srv.out" | tail -1)" \
        --rawfile samples "$T/samples" --slurpfile iv "$T/cli.jsonl" '
        def median: sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
        ($samples | split("\n") | map(select(length > 0) | split(" ") | map(tonumber) |
            {t_s: .[0], rss_kib: .[1], fds: .[2], kernel_kib: .[3]})) as $s |
        [$iv[] | select(.type == "interval") | {t_s, completed, failed, p50: .latency_us.p50,
            p99: .latency_us.p99, p999: .latency_us.p999}] as $i |
        $rep[0] as $r | ($s | map(.t_s) | max) as $t_end | ($i | map(.t_s) | min) as $t0 |
        # Warm-up: the connect phase and the first window of traffic.
        ($s | map(select(.t_s >= $t0 + $win)) | first) as $base | ($s | last) as $last |
        ($i | map(select(.t_s > $t0 + $win and .t_s <= $t0 + 2 * $win) | .p99) | median) as $p99_first |
        ($i | map(select(.t_s > ($i | map(.t_s) | max) - $win) | .p99) | median) as $p99_last |
        (($r.failed // 0) + ($r.connect_failed // 0) + ($r.dropped // 0)) as $lost |
        (100 * ($last.rss_kib - $base.rss_kib) / $base.rss_kib) as $rss_g |
        (100 * ($last.kernel_kib - $base.kernel_kib) / $base.kernel_kib) as $k_g |
        {server: $srv, pass: ($lost == 0 and $rc == 0 and $rss_g <= 1 and $k_g <= 1 and $p99_last <= 1.5 * $p99_first),
         lost: $lost, client_exit: $rc, succeeded: $r.succeeded, requests: $r.requests,
         connections_held: $r.connections_held, rss_growth_pct: $rss_g, kernel_growth_pct: $k_g,
         rss_kib_after_warmup: $base.rss_kib, rss_kib_end: $last.rss_kib,
         kernel_kib_after_warmup: $base.kernel_kib, kernel_kib_end: $last.kernel_kib,
         fds_after_warmup: $base.fds, fds_end: $last.fds,
         p99_first_window_us: $p99_first, p99_last_window_us: $p99_last,
         p99_ratio: (if $p99_first > 0 then $p99_last / $p99_first else null end),
         server_stats: $stats, samples: $s, intervals: $i}' >>"$T/servers.jsonl" ||
        { echo "soak: $srv: could not compute the verdict" >&2; exit 1; }
    tail -1 "$T/servers.jsonl" | jq -r '"soak: \(.server): \(if .pass then "pass" else "FAIL" end): lost \(.lost), RSS \(.rss_kib_after_warmup) -> \(.rss_kib_end) KiB (\(.rss_growth_pct * 100 | round / 100)%), kernel \(.kernel_kib_after_warmup) -> \(.kernel_kib_end) KiB (\(.kernel_growth_pct * 100 | round / 100)%), descriptors \(.fds_after_warmup) -> \(.fds_end), p99 \(.p99_first_window_us) -> \(.p99_last_window_us) us"' >&2
    tail -1 "$T/servers.jsonl" | jq -e .pass >/dev/null || failed_any=1
done

method=$([ -n "$(ls -d "$CG_ROOT"/memory 2>/dev/null)" ] && echo "memory cgroup v1 memory.kmem.usage_in_bytes" || echo "/proc/meminfo Slab+PageTables+KernelStack")
jq -s --argjson s "$SOAK_S" --argjson c "$CONNS" --argjson r "$RATE" --argjson iv "$IV" --argjson w "$WIN" \
    --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg kernel "$(uname -r)" --arg method "$method" '
    {settings: {soak_s: $s, connections: $c, rate: $r, interval_s: $iv, window_s: $w, date: $date,
      kernel: $kernel, kernel_memory: $method, command: "SOAK_S=\($s) test/tools/soak.sh",
      pass: "nothing lost; RSS and kernel memory grow at most 1% after the first window; p99 (median of the intervals) of the last window within 1.5 x that of the window after warm-up"},
     servers: .}' "$T/servers.jsonl" >"$OUT/soak.json.tmp" && mv "$OUT/soak.json.tmp" "$OUT/soak.json"

# The chart: per server, latency per interval and memory over time, stacked.
{
    ns=$(jq '.servers | length' "$OUT/soak.json")
    printf '<?xml version="1.0" encoding="UTF-8"?>\n'
    printf '<svg xmlns="http://www.w3.org/2000/svg" width="1440" height="%d" viewBox="0 0 1440 %d">\n' $((ns * 440)) $((ns * 440))
    i=0
    for srv in $(jq -r '.servers[].server' "$OUT/soak.json"); do
        printf '<svg x="0" y="%d" width="720" height="440">\n' $((i * 440))
        sh test/tools/intervals.sh -t "$srv: latency per $IV s, $CONNS connections at $RATE/s" "$OUT/soak-$srv.jsonl" | sed 1d
        printf '</svg>\n<svg x="720" y="%d" width="720" height="440">\n' $((i * 440))
        jq -r --arg srv "$srv" '.servers[] | select(.server == $srv) | .samples[] |
            "RSS \(.t_s) \(.rss_kib / 1024)", "kernel \(.t_s) \(.kernel_kib / 1024)"' "$OUT/soak.json" |
            awk -v title="$srv: memory" -v xlabel="seconds since the start" -v ylabel="MiB" -v linx=1 \
                -f test/tools/svgplot.awk | sed 1d
        printf '</svg>\n'
        i=$((i + 1))
    done
    printf '</svg>\n'
} >"$OUT/soak.svg"
echo "soak: wrote $OUT/soak.json, $OUT/soak.svg and $OUT/soak-SERVER.jsonl" >&2
exit $failed_any
