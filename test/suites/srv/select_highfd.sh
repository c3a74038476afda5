# Connections whose descriptors are above FD_SETSIZE (1024) still echo exactly:
# 1,500 held connections push the next ones past 1024 (select's fd_set limit).
. "$(dirname "$0")/../../lib/lib.sh"
start_server
"$PEER" "$PORT" hold 1500 20 >"$T/hold.out" &
HOLD=$!
for _ in $(seq 200); do
    grep -q 'opened=' "$T/hold.out" && break
    sleep 0.05
done
expect_eq "held" "$(sed -n 's/.*opened=//p' "$T/hold.out")" 1500
"$PEER" "$PORT" echo 1048576 || fail "1 MiB through a descriptor above 1024"
"$PEER" "$PORT" echo 262144 slow || fail "slow reader above 1024"
flood -n 2000 -c 200 -r 5 -t 10
expect_eq "cli_flood exit status" "$CLI_RC" 0
expect_eq "succeeded" "$(json_num succeeded "$T/report.json")" 2000
kill -0 "$SRV_PID" 2>/dev/null || fail "server died"
kill "$HOLD" 2>/dev/null; wait "$HOLD" 2>/dev/null
stop_server || fail "server exit status $?"
expect_eq "server accepted" "$(stat_num accepted)" $((1500 + 2 + 400))
peak=$(stat_num peak_open)
[ "$peak" -gt 1500 ] || fail "peak_open $peak: the held connections were not all open"
# The peers and cli_flood checked every echo byte for byte; the server's count
# must at least hold the peers' bytes.
bytes=$(stat_num bytes_echoed)
[ "$bytes" -gt $((1048576 + 262144)) ] || fail "bytes_echoed $bytes"
echo "ok: peak_open=$peak bytes_echoed=$bytes"
