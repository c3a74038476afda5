# spawn_fail.sh COUNTER CALL: a strategy that spawns a process or thread per
# connection, when CALL (fork, pthread_create) fails: run as nobody with
# RLIMIT_NPROC 4, which counts processes and threads (the server and three more).
# Ten held connections: three are served, seven closed at once and counted in
# COUNTER; one warning; the server neither dies nor spins, and serves again once
# its children have ended.
. "$(dirname "$0")/../../lib/lib.sh"
counter=$1 call=$2
# ThreadSanitizer runs a thread of its own, which RLIMIT_NPROC counts too; the
# server cannot know of it, so its start line says one more than it can serve.
tsan=0
[ "${C10K_SANITIZE:-}" = thread ] && tsan=1
as_nobody $((4 + tsan))
start_server
"$PEER" "$PORT" hold 10 3 >"$T/hold.out" || fail "hold: $(cat "$T/hold.out")"
expect_eq "connections closed by the server" "$(peer_num closed_by_server "$T/hold.out")" 7
sleep 0.5  # the three children see EOF and end (processes are reaped)
# One at a time: each child must end before it stops counting, so a few of these
# may still be refused; each refusal must be counted, none lost.
flood -n 20 -c 1 -t 5
ok=$(json_num succeeded "$T/report.json")
failed=$(json_num failed "$T/report.json")
[ "$ok" -ge 10 ] || fail "only $ok of 20 served after the children ended"
stop_server || fail "server exit status $?"
expect_eq "$counter" "$(stat_num "$counter")" $((7 + failed))
expect_eq "accepted" "$(stat_num accepted)" $((3 + ok))
grep -q "$(basename "$SERVER"): $call (refusing connections" "$T/srv.err" ||
    fail "no warning: $(cat "$T/srv.err")"
[ "$(grep -c "$call" "$T/srv.err")" = 1 ] || fail "more than one warning: $(cat "$T/srv.err")"
grep -q "up to $((3 + tsan)) connections" "$T/srv.out" || fail "start line capacity: $(cat "$T/srv.out")"
echo "ok: $ok of 20 served after the failures"
