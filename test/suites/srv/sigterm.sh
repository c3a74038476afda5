# SIGTERM and SIGINT stop the server at once with statistics and exit 0;
# SIGHUP and SIGPIPE do not kill it.
. "$(dirname "$0")/../../lib/lib.sh"
start_server
kill -HUP "$SRV_PID"; kill -PIPE "$SRV_PID"
sleep 0.2  # what is asserted is that nothing happens: there is no condition to poll
kill -0 "$SRV_PID" 2>/dev/null || fail "SIGHUP or SIGPIPE killed the server"
"$PEER" "$PORT" hold 50 5 >"$T/hold.out" &
HOLD=$!
all_accepted() { accepted_now >"$T/why"; [ "$(cat "$T/why")" -ge 50 ]; }
wait_for 5 "50 connections accepted (the count is the last one seen)" all_accepted
start=$(date +%s%N)
stop_server TERM
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
kill "$HOLD" 2>/dev/null; wait "$HOLD" 2>/dev/null
expect_eq "exit status after SIGTERM" "$rc" 0
# ThreadSanitizer's exit (its report pass over every thread) takes longer.
limit=$([ "${C10K_SANITIZE:-}" = thread ] && echo 3000 || echo 1000)
[ "$ms" -lt "$limit" ] || fail "took $ms ms to stop (at most $limit)"
grep -q 'stats accepted=50 peak_open=50 ' "$T/srv.out" || fail "statistics line missing or wrong: $(cat "$T/srv.out")"
start_server
stop_server INT || fail "exit status after SIGINT: $?"
grep -q 'stats accepted=0 ' "$T/srv.out" || fail "no statistics after SIGINT"
echo "ok: stopped in $ms ms"
