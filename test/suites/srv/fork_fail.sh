# srv_fork when fork() fails: run as nobody with RLIMIT_NPROC 4 (the server and
# three children). Ten held connections: three are served, seven refused and
# counted; the server neither dies nor spins, and serves again once children exit.
. "$(dirname "$0")/../../lib/lib.sh"
as_nobody 4
start_server
"$PEER" "$PORT" hold 10 3 >"$T/hold.out" || fail "hold: $(cat "$T/hold.out")"
sleep 0.5  # children see EOF, exit, are reaped
# One at a time: each child must exit and be reaped before it stops counting, so
# a few of these may still be refused; each refusal must be counted, none lost.
flood -n 20 -c 1 -t 5
ok=$(json_num succeeded "$T/report.json")
failed=$(json_num failed "$T/report.json")
[ "$ok" -ge 10 ] || fail "only $ok of 20 served after the children exited"
stop_server || fail "server exit status $?"
expect_eq "fork_failed" "$(stat_num fork_failed)" $((7 + failed))
expect_eq "accepted" "$(stat_num accepted)" $((3 + ok))
grep -q 'srv_fork: fork (refusing connections' "$T/srv.err" || fail "no warning: $(cat "$T/srv.err")"
[ "$(grep -c 'fork' "$T/srv.err")" = 1 ] || fail "more than one warning"
grep -q 'up to 3 connections' "$T/srv.out" || fail "start line capacity: $(cat "$T/srv.out")"
echo "ok: $ok of 20 served after the failures"
