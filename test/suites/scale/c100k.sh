# C100K on one machine: 100,000 held connections against srv_epoll workers, from
# cli_flood workers spread over 8 loopback source addresses. No failure, every
# echo checked byte for byte by cli_flood; memory per connection reported.
#
# A process may hold at most RLIMIT_NOFILE (20,000 here) descriptors, so 100,000
# connections need at least 6 processes on each side: 8 server and 8 client workers.
. "$(dirname "$0")/../../lib/lib.sh"
CONNS=${CONNS:-100000}
hard=$(ulimit -Hn)
[ "$hard" -ge 14000 ] || skip "RLIMIT_NOFILE hard limit $hard is below the 14000 per process this test needs"
free_kib=$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)
[ "$free_kib" -ge 4000000 ] || skip "needs 4 GiB of free memory for $CONNS x 2 sockets; $free_kib KiB available"
slab_kib() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }
slab0=$(slab_kib)
start_server -w 8 -a 127.0.0.1
sleep 0.3
"$CLI" -p "$PORT" -w 8 -s 127.0.0.2-127.0.0.9 -c "$CONNS" --connect-rate 25000 -d 5 -R 20000 -t 30 \
    --json >"$T/report.json" 2>"$T/cli.err" &
CLI_PID=$!
# Sample memory while all connections are held (connecting takes about 4 s).
peak_open_srv=0 srv_kib=0 slab_peak=$slab0 sock_mem=0
for _ in $(seq 40); do
    kill -0 "$CLI_PID" 2>/dev/null || break
    kib=0
    for p in $SRV_PID $(pgrep -P "$SRV_PID"); do
        k=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
        kib=$((kib + ${k:-0}))
    done
    [ "$kib" -gt "$srv_kib" ] && srv_kib=$kib
    s=$(slab_kib); [ "$s" -gt "$slab_peak" ] && slab_peak=$s
    m=$(awk '/^TCP:/ { print $NF }' /proc/net/sockstat); [ "$m" -gt "$sock_mem" ] && sock_mem=$m
    sleep 0.25
done
wait "$CLI_PID"
rc=$?
cat "$T/report.json"
expect_eq "cli_flood exit status (stderr: $(head -c 300 "$T/cli.err"))" "$rc" 0
expect_eq "failed" "$(json_num failed "$T/report.json")" 0
expect_eq "connections" "$(json_num connections "$T/report.json")" "$CONNS"
expect_eq "peak open" "$(json_num peak_open "$T/report.json")" "$CONNS"
ok=$(json_num succeeded "$T/report.json")
[ "$ok" -ge 98000 ] || fail "succeeded $ok of the 100000 requests due in 5 s at 20000/s"
stop_server TERM || fail "server exit status $?"
expect_eq "server accepted" "$(stat_num accepted)" "$CONNS"
per_conn_user=$((srv_kib * 1024 / CONNS))
per_sock_kernel=$(((slab_peak - slab0) * 1024 / (2 * CONNS)))
echo "ok: $CONNS held, $ok echoes exact; server PSS ${srv_kib} KiB (${per_conn_user} B/conn), kernel slab +$((slab_peak - slab0)) KiB (~${per_sock_kernel} B/socket, both ends), sockstat mem peak ${sock_mem} pages; connect_s $(json_num connect_s "$T/report.json")"
