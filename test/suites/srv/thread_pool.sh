# srv_thread -w 4: a pool of four threads shares the listener, each serving one
# connection at a time; a fifth client waits in the listen queue; statistics add up.
. "$(dirname "$0")/../../lib/lib.sh"
start_server -w 4
grep -q 'strategy thread pool (4 threads' "$T/srv.out" || fail "start line: $(cat "$T/srv.out")"
# ThreadSanitizer adds a thread of its own.
expect_eq "threads (main and pool)" "$(awk '/^Threads:/ { print $2 }' /proc/$SRV_PID/status)" \
    $([ "${C10K_SANITIZE:-}" = thread ] && echo 6 || echo 5)
flood -n 2000 -c 8 -r 5 -t 10
expect_eq "cli_flood exit status" "$CLI_RC" 0
expect_eq "succeeded" "$(json_num succeeded "$T/report.json")" 2000
"$PEER" "$PORT" echo 1048576 slow || fail "slow reader"
"$PEER" "$PORT" halfclose 1000 || fail "half-close"
stop_server || fail "server exit status $?"
expect_eq "accepted" "$(stat_num accepted)" 402
peak=$(stat_num peak_open)
[ "$peak" -ge 1 ] && [ "$peak" -le 4 ] || fail "peak_open $peak with 4 threads"
[ "$(stat_num bytes_echoed)" -gt 1049576 ] || fail "bytes_echoed $(stat_num bytes_echoed)"
echo "ok: peak_open=$peak"
