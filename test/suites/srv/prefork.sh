# srv_fork -w 4: four pre-forked workers share the listener, each serving one
# connection at a time; a worker that dies is replaced; statistics add up.
. "$(dirname "$0")/../../lib/lib.sh"
start_server -w 4
grep -q 'strategy prefork (4 workers' "$T/srv.out" || fail "start line: $(cat "$T/srv.out")"
sleep 0.2
expect_eq "workers" "$(pgrep -c -P "$SRV_PID")" 4
flood -n 2000 -c 8 -r 5 -t 10
expect_eq "cli_flood exit status" "$CLI_RC" 0
expect_eq "succeeded" "$(json_num succeeded "$T/report.json")" 2000
"$PEER" "$PORT" echo 1048576 slow || fail "slow reader"
kill -KILL "$(pgrep -P "$SRV_PID" | head -1)"
sleep 1.5
expect_eq "workers after one was killed" "$(pgrep -c -P "$SRV_PID")" 4
"$PEER" "$PORT" halfclose 1000 || fail "echo after a worker was replaced"
parent=$SRV_PID
stop_server || fail "server exit status $?"
expect_eq "accepted" "$(stat_num accepted)" 402
peak=$(stat_num peak_open)
[ "$peak" -ge 1 ] && [ "$peak" -le 4 ] || fail "peak_open $peak with 4 workers"
[ "$(stat_num bytes_echoed)" -gt 1049576 ] || fail "bytes_echoed $(stat_num bytes_echoed)"
[ -z "$(pgrep -P "$parent")" ] || fail "workers left behind"
echo "ok: peak_open=$peak"
