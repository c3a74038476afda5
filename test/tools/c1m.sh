#!/bin/sh
# make c1m: one million held connections on one machine (issue 14), and what each
# costs. Server `SERVER -w 64` on CPU 0, `cli_flood -w 64` from 60 loopback sources
# on CPU 1, at 40,000 connections/s, held 30 s at 20,000 requests/s.
#
#   sh test/tools/c1m.sh [-c connections] [-s server] [-o results/c1m.json] [-w workers]
#                  [-b batch-us] [-e] [-p] [-r]
#
# -w sets the worker processes of both sides (default 64; RLIMIT_NOFILE 20,000
# each means a million needs at least 51, and SO_REUSEPORT's hash spreads them
# unevenly, so 52); -b is cli_flood's --batch (default its own, 1000 us).
# -e runs it all in a network namespace of its own whose established-connection
# hash has a bucket for each socket: the host's is sized at boot (262,144 buckets
# here), so two million sockets hang in chains of 8 that every segment walks
# (__inet_lookup_established, 7% of all samples at a million). The size comes
# from net.ipv4.tcp_child_ehash_entries, read when a namespace is made: it is set
# for that moment and put back.
# -p (root) runs both sides in a session of their own at nice -20, its autogroup
# too. With autogroup scheduling each session is one task group, weighted by the
# group's nice, not its tasks': a task elsewhere at nice -10 outweighs a whole
# session at nice 0 nine to one. This VM's init (PID 1) has such a thread, and it
# scans every open descriptor: 0.3 ms of CPU a second per thousand, so 0.5 s of
# every 1.1 s at the two million of a C1M run, while the 64 servers on its core
# got a tenth of it and requests waited up to 540 ms. The JSON says which.
# -r (with -e) sends the namespace loopback's receive work to the server's CPU
# (rps_cpus 1). On loopback a segment is received on the CPU that sent it, so
# the client's core carried every handshake whole (the listener's SYN and ACK,
# the client's SYN-ACK) while the server's core sat half idle: the ramp ran at
# 28,000-30,000 connections a second instead of 40,000.
#
# Needs about 10 GiB (5 KB of kernel memory per socket, two sockets a connection):
# it exits 77, saying so, with less than 14 GiB available. Memory is read from
# /proc/meminfo deltas (Slab, PageTables, KernelStack: kernel) and smaps_rollup
# (Pss: user, summed over each side's processes) at the peak of the hold; server
# CPU from /proc/PID/schedstat (nanoseconds) over the middle of the window.
# Writes the JSON summary and prints a Markdown table row.
set -u
cd "$(dirname "$0")/../.."
BIN=${BIN:-build}
CONNS=1000000 SERVER=$BIN/srv_epoll OUT=results/c1m.json WORKERS=64 BATCH= NETNS= PRIO= RPS=
# "$@" stays whole (no shift): the re-runs below pass it on as given.
while getopts c:s:o:w:b:epr ch; do
    case $ch in
    c) CONNS=$OPTARG ;;
    s) SERVER=$OPTARG ;;
    o) OUT=$OPTARG ;;
    w) WORKERS=$OPTARG ;;
    b) BATCH=$OPTARG ;;
    e) NETNS=1 ;;
    p) PRIO=1 ;;
    r) RPS=1 ;;
    *) echo "usage: sh test/tools/c1m.sh [-c connections] [-s server] [-o file] [-w workers] [-b batch-us] [-e] [-p] [-r]" >&2; exit 2 ;;
    esac
done
[ -z "$RPS" ] || [ -n "$NETNS" ] || { echo "c1m: -r needs -e (it sets the namespace loopback's rps_cpus, not the host's)" >&2; exit 2; }
# Without -p, say when some other session's task can outweigh this one.
if [ -z "$PRIO" ] && [ -z "${C1M_NETNS:-}" ] && [ "$(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null)" = 1 ]; then
    me=$(ps -o sid= -p $$ | tr -d ' ')
    heavy=$(ps -eLo ni=,sid=,ppid=,pid=,comm= 2>/dev/null |
        awk -v me="$me" '$1 < 0 && $2 != me && $3 != 2 && $4 != 2 { print "PID " $4 " (" $5 ", nice " $1 ")"; exit }')
    [ -n "$heavy" ] && echo "c1m: note: $heavy is in another session; with autogroup scheduling one such task outweighs this whole session, and may take a core for long stretches: -p runs the measurement in a session of its own at nice -20" >&2
fi
if [ -n "$PRIO" ] && [ -z "${C1M_SESSION:-}" ]; then
    [ "$(id -u)" = 0 ] || { echo "c1m: -p needs root (it sets nice -20)" >&2; exit 2; }
    C1M_SESSION=1 exec setsid -w sh -c '
        if [ -e /proc/self/autogroup ] && ! echo -20 >/proc/self/autogroup; then
            echo "c1m: cannot set the session'"'"'s autogroup to nice -20" >&2; exit 1
        fi
        exec nice -n -20 "$@"' sh sh test/tools/c1m.sh "$@"
fi
if [ -n "$NETNS" ] && [ -z "${C1M_NETNS:-}" ]; then
    [ "$(id -u)" = 0 ] && command -v ip >/dev/null ||
        { echo "c1m: SKIP: -e needs root and ip (iproute2)" >&2; exit 77; }
    buckets=1
    while [ $buckets -lt $((CONNS * 2)) ]; do buckets=$((buckets * 2)); done
    ns=c10k-c1m-$$
    old=$(sysctl -n net.ipv4.tcp_child_ehash_entries) || exit 1
    sysctl -qw net.ipv4.tcp_child_ehash_entries=$buckets || exit 1
    ip netns add $ns
    made=$?
    sysctl -qw net.ipv4.tcp_child_ehash_entries="$old"
    [ $made = 0 ] || { echo "c1m: ip netns add $ns failed" >&2; exit 1; }
    ip -n $ns link set lo up
    if [ -n "$RPS" ]; then
        ip netns exec $ns sh -c 'echo 1 >/sys/class/net/lo/queues/rx-0/rps_cpus' ||
            { ip netns del $ns; echo "c1m: cannot set rps_cpus on the namespace loopback" >&2; exit 1; }
    fi
    C1M_NETNS=$ns ip netns exec $ns sh test/tools/c1m.sh "$@"
    rc=$?
    ip netns del $ns
    exit $rc
fi
RATE=20000 HOLD=30 CRATE=40000 SOURCES=127.0.0.2-127.0.0.61
avail=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
need=$((CONNS * 14 / 1000))  # KiB: 14 GiB for a million
if [ "$avail" -lt "$need" ]; then
    echo "c1m: SKIP: $CONNS connections need $((need / 1048576)) GiB available, $((avail / 1048576)) GiB are" >&2
    exit 77
fi
hard=$(ulimit -Hn)
[ "$hard" -ge 20000 ] || { echo "c1m: SKIP: RLIMIT_NOFILE hard limit $hard, $WORKERS workers need 20000 each" >&2; exit 77; }
[ -x "$SERVER" ] && [ -x "$BIN/cli_flood" ] || { echo "c1m: build first: make" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/c10k-c1m.XXXXXX")
SRV_PID= CLI_PID=
cleanup() {
    [ -n "$CLI_PID" ] && kill -KILL "$CLI_PID" 2>/dev/null
    [ -n "$SRV_PID" ] && kill -KILL "$SRV_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
exec 9>"${TMPDIR:-/tmp}/c10k-load.lock"
flock -w 900 9 || { echo "c1m: waited 15 minutes for the load lock" >&2; exit 1; }

. test/lib/core.sh
. test/tools/measure.sh  # kernel_kib, tasks_cpu_ns
# group_pss PID: Pss of PID and its children, KiB (one cat for all: see tasks_cpu_ns).
group_pss() {
    files=
    for p in $1 $(pgrep -P "$1"); do files="$files /proc/$p/smaps_rollup"; done
    cat $files 2>/dev/null </dev/null | awk '/^Pss:/ { s += $2 } END { print s + 0 }'
}
# group_cpu_ns PID: CPU time of PID's children (the workers) and itself, ns.
group_cpu_ns() { tasks_cpu_ns "$1" $(pgrep -P "$1"); }

# Segments dropped at the CPUs' input queues so far (machine-wide, all tenants).
softnet_drops() {
    d=0
    while read -r _ dropped _; do d=$((d + 0x$dropped)); done </proc/net/softnet_stat
    echo $d
}
kernel0=$(kernel_kib)
drops0=$(softnet_drops)
nstat -n >/dev/null 2>&1
taskset -c 0 "$SERVER" -w $WORKERS 0 >"$T/srv.out" 2>"$T/srv.err" &
SRV_PID=$!
PORT=$(wait_start_line "$T/srv.out" "$SRV_PID" 10) || { echo "c1m: server did not start: $(cat "$T/srv.err")" >&2; exit 1; }
t0=$(date +%s.%N)
taskset -c 1 "$BIN/cli_flood" -p "$PORT" -w $WORKERS -s $SOURCES -c "$CONNS" --connect-rate $CRATE \
    -d $HOLD -R $RATE -t 30 ${BATCH:+--batch $BATCH} --json >"$T/report.json" 2>"$T/cli.err" &
CLI_PID=$!
# Once a second: time, established sockets, kernel KiB, server CPU ns; the PSS
# sums (128 smaps reads) only every fifth second.
i=0
while kill -0 "$CLI_PID" 2>/dev/null; do
    est=$(awk '/^TCP:/ { print $3 }' /proc/net/sockstat)
    pss=
    [ $((i % 5)) = 0 ] && pss="$(group_pss "$SRV_PID") $(group_pss "$CLI_PID")"
    echo "$(date +%s.%N) $est $(kernel_kib) $(group_cpu_ns "$SRV_PID") $pss" >>"$T/samples"
    i=$((i + 1))
    sleep 1
done
wait "$CLI_PID"
rc=$?
CLI_PID=
kill -TERM "$SRV_PID"
wait "$SRV_PID"
SRV_PID=
nstat 2>/dev/null >"$T/nstat.all"
grep -E 'ListenOverflows|ListenDrops|TCPReqQFullDrop|SyncookiesSent' "$T/nstat.all" >"$T/nstat"
# Segments lost and sent again, over the whole run (ramp included): a loopback
# segment is dropped when a CPU's input queue (net.core.netdev_max_backlog) is
# full, and waits for a loss probe or a retransmission timeout (200 ms and up).
nst() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$T/nstat.all"; }
retrans=$(nst TcpRetransSegs) rtos=$(nst TcpExtTCPTimeouts) probes=$(nst TcpExtTCPLossProbes)
drops=$(($(softnet_drops) - drops0))

r=$T/report.json
jq -e . "$r" >/dev/null 2>&1 || { echo "c1m: cli_flood gave no report (exit $rc): $(head -c 500 "$T/cli.err")" >&2; exit 1; }
connect_s=$(jq .connect_s "$r")
# The window runs from t0 + connect_s to that + HOLD; CPU over its middle.
awk -v t0="$t0" -v cs="$connect_s" -v hold=$HOLD -v rate=$RATE -v k0="$kernel0" -v n="$CONNS" '
    { t = $1 - t0; if ($3 > kmax) kmax = $3
      if (NF >= 6 && $5 + $6 > pmax) { pmax = $5 + $6; psrv = $5; pcli = $6 }
      if (t >= cs + 3 && !a) { a = 1; ta = t; ca = $4 }
      if (t <= cs + hold - 2) { tb = t; cb = $4 } }
    END { cpu = (a && tb > ta) ? (cb - ca) / ((tb - ta) * rate) / 1000 : -1
          printf "%d %d %d %.2f\n", (kmax - k0) * 1024 / n, psrv * 1024 / n, pcli * 1024 / n, cpu }
' "$T/samples" >"$T/figures"
read -r kernel_b srv_b cli_b cpu_us <"$T/figures"
overflows=$(awk '{ s += $2 } END { print s + 0 }' "$T/nstat")
name=$(basename "$SERVER")
jq -c --arg server "$name" --argjson kernel "$kernel_b" --argjson srv "$srv_b" \
    --argjson cli "$cli_b" --argjson cpu "$cpu_us" --argjson rc "$rc" --argjson ovf "$overflows" \
    --argjson workers "$WORKERS" --arg batch "${BATCH:-default}" --argjson netns "${NETNS:-0}" \
    --arg rps "$(cat /sys/class/net/lo/queues/rx-0/rps_cpus 2>/dev/null || echo unknown)" \
    --arg priority "$(if [ -n "$PRIO" ]; then echo "nice -20, $(cat /proc/self/autogroup 2>/dev/null || echo 'no autogroup')"; else echo default; fi)" \
    --argjson retrans "$retrans" --argjson rtos "$rtos" --argjson probes "$probes" --argjson drops "$drops" \
    '{server: $server, workers: $workers, batch_us: $batch, exit_status: $rc, connections: .concurrency, peak_open, connect_failed,
      dropped, failed, succeeded, connect_s, connect_rate_per_s: (.connections / .connect_s | floor),
      latency_p50_us: .latency_us.p50, latency_p99_us: .latency_us.p99,
      server_cpu_us_per_request: $cpu, kernel_bytes_per_connection: $kernel,
      server_pss_bytes_per_connection: $srv, client_pss_bytes_per_connection: $cli,
      listen_overflows_and_drops: $ovf, netns_own_ehash: ($netns == 1), priority: $priority, loopback_rps_cpus: $rps, retransmitted_segments: $retrans,
      retransmission_timeouts: $rtos, loss_probes: $probes, input_queue_drops_machine_wide: $drops,
      memory_method: "/proc/meminfo deltas (Slab+PageTables+KernelStack), smaps_rollup Pss"}' \
    "$r" >"$T/summary.json"
mkdir -p "$(dirname "$OUT")"
cp "$T/summary.json" "$OUT"
cat "$OUT"
jq -r '"| \(.server) | \(.peak_open) | \(.connect_failed) / \(.dropped) / \(.failed) | \(.connect_s) s (\(.connect_rate_per_s)/s) | \(.latency_p50_us) / \(.latency_p99_us) | \(.server_cpu_us_per_request) | \(.kernel_bytes_per_connection) | \(.server_pss_bytes_per_connection) / \(.client_pss_bytes_per_connection) | \(.exit_status) |"' "$OUT"
exit $rc
