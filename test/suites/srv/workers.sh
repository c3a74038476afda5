# -w N: N SO_REUSEPORT workers under a supervising parent. A worker killed in the
# middle of a held flood costs exactly its connections and the requests due on
# them: the client counts every one as a reset or an early close, and nothing
# else fails.
# The worker is restarted, the next flood is served in full, and SIGTERM or SIGINT
# stops all of them and prints the summed counts.
. "$(dirname "$0")/../../lib/lib.sh"
"$SERVER" -h | grep -q -- "-w workers" || skip "$(basename "$SERVER") has no -w (workers) option"
start_server -w 2
grep -q "2 workers (SO_REUSEPORT)" "$T/srv.out" || fail "start line: $(cat "$T/srv.out")"
workers_up() { pgrep -P "$SRV_PID" >"$T/why"; [ "$(wc -l <"$T/why")" = 2 ]; }
wait_for 5 "2 worker processes (the pids seen last)" workers_up

# 1,000 held connections, 50,000 requests a second in all for 2 s; the kill comes
# 1 s in. The killed worker's connections drop (reset or closed), and the requests
# due on them from then on fail with the same cause: every request and every
# connection is accounted for, and nothing else fails.
need_tool jq jq
"$CLI" -p "$PORT" -c 1000 -d 2 -R 50000 -t 5 --json >"$T/report.json" 2>"$T/cli.err" &
CLI_PID=$!
sleep 1
victim=$(pgrep -P "$SRV_PID" | head -1)
kill -KILL "$victim"
wait "$CLI_PID"
rc=$?
json() { jq -e "$1" "$T/report.json" || fail "no $1 in the report: $(head -c 300 "$T/report.json")"; }
expect_eq "cli_flood exit status with a worker killed" "$rc" 1
expect_eq "requests due (50,000/s for 2 s)" "$(json .requests)" 100000
ok=$(json .succeeded) failed=$(json .failed) dropped=$(json .dropped) held=$(json .connections_held)
expect_eq "succeeded + failed" $((ok + failed)) 100000
[ "$dropped" -gt 0 ] || fail "no connection dropped although a worker was killed mid-flood"
expect_eq "held + dropped" $((held + dropped)) 1000
expect_eq "drops that are resets or early closes (all of them)" \
    $(($(json .connection_failures.dropped.reset) + $(json .connection_failures.dropped.closed_early))) "$dropped"
expect_eq "failed requests that are resets or early closes (all of them)" \
    $(($(json .failures.reset) + $(json .failures.closed_early))) "$failed"
echo "the kill dropped $dropped connections and cost $failed requests"

restarted() { pgrep -P "$SRV_PID" | grep -v "^$victim\$" >"$T/why"; [ "$(wc -l <"$T/why")" = 2 ]; }
wait_for 5 "2 workers again after the crash (the pids seen last)" restarted
grep -q "worker . (pid $victim) killed by signal 9; restarting it" "$T/srv.err" ||
    fail "no restart message: $(cat "$T/srv.err")"
flood -n 4000 -c 1000 -t 20
expect_eq "cli_flood exit status after the restart" "$CLI_RC" 0
expect_eq "succeeded after the restart" "$(json .succeeded)" 4000
survivor=$(pgrep -P "$SRV_PID" | head -1)
stop_server TERM || fail "exit status $?"
kill -0 "$survivor" 2>/dev/null && fail "worker $survivor still running after SIGTERM"
no_session_left() { session_left >"$T/why"; [ ! -s "$T/why" ]; }
wait_for 5 "the server's session empty after SIGTERM" no_session_left
# The killed worker's counts are lost with it: what is summed is the connections
# the survivor held through the first flood and all of the second.
expect_eq "accepted (survivor and new worker)" "$(stat_num accepted)" $((held + 4000))
crash_acc=$(stat_num accepted)
# SIGINT stops them too, with the sum of both workers' counts.
start_server -w 2
wait_for 5 "2 worker processes (the pids seen last)" workers_up
flood -n 1000 -c 100 -t 20
expect_eq "succeeded before SIGINT" "$(json .succeeded)" 1000
stop_server INT || fail "exit status after SIGINT: $?"
expect_eq "accepted, summed over the workers, after SIGINT" "$(stat_num accepted)" 1000
wait_for 5 "the server's session empty after SIGINT" no_session_left
echo "ok: accepted=$crash_acc after one crash; SIGINT summed 1000"
