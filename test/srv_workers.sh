# -w N: N SO_REUSEPORT workers under a supervising parent. A killed worker is
# restarted and no client notices; SIGTERM stops all and prints the summed counts.
. "$(dirname "$0")/lib.sh"
load_lock
"$SERVER" -h | grep -q -- "-w workers" || skip "$(basename "$SERVER") has no -w (workers) option"
start_server -w 2
sleep 0.3
workers=$(pgrep -P "$SRV_PID" | wc -l)
expect_eq "worker processes" "$workers" 2
grep -q "2 workers (SO_REUSEPORT)" "$T/srv.out" || fail "start line: $(cat "$T/srv.out")"
flood -n 4000 -c 1000 -t 20
expect_eq "succeeded before the crash" "$(json_num succeeded "$T/report.json")" 4000
victim=$(pgrep -P "$SRV_PID" | head -1)
kill -KILL "$victim"
for _ in $(seq 60); do
    [ "$(pgrep -P "$SRV_PID" | grep -vc "^$victim\$")" = 2 ] && break
    sleep 0.05
done
expect_eq "workers after a crash" "$(pgrep -P "$SRV_PID" | grep -vc "^$victim\$")" 2
grep -q "worker . (pid $victim) killed by signal 9; restarting it" "$T/srv.err" ||
    fail "no restart message: $(cat "$T/srv.err")"
flood -n 4000 -c 1000 -t 20
expect_eq "succeeded after the restart" "$(json_num succeeded "$T/report.json")" 4000
survivor=$(pgrep -P "$SRV_PID" | head -1)
stop_server TERM || fail "exit status $?"
kill -0 "$survivor" 2>/dev/null && fail "worker $survivor still running after SIGTERM"
# The crashed worker's counts are lost; the others add up to at least the second run.
acc=$(stat_num accepted)
[ "$acc" -ge 4000 ] && [ "$acc" -le 8000 ] || fail "accepted=$acc, want 4000..8000"
echo "ok: accepted=$acc after one crash"
