# cli_flood refuses, before any traffic, a -c its descriptor budget cannot hold,
# and reports refused connections by name with exit status 1.
. "$(dirname "$0")/../../lib/lib.sh"
(ulimit -n 256 && ulimit -Hn 256 && exec "$CLI" -p 9 -n 1000 -c 1000) >"$T/o" 2>"$T/e"; rc=$?
expect_eq "exit status" "$rc" 1
grep -q 'needs 1008 descriptors per process but RLIMIT_NOFILE allows 256' "$T/e" || fail "message: $(cat "$T/e")"
grep -q 'ulimit -Hn' "$T/e" || fail "no fix given: $(cat "$T/e")"
# Nothing listens on the port of a server just stopped: every request is refused.
start_server
stop_server || fail "server exit status $?"
"$CLI" -p "$PORT" -n 20 --json >"$T/r.json"; rc=$?
expect_eq "exit status when refused" "$rc" 1
expect_eq "failed" "$(json_num failed "$T/r.json")" 20
expect_eq "refused" "$(json_num refused "$T/r.json")" 20
echo ok
