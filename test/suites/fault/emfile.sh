# Descriptor exhaustion: under `ulimit -n 128`, 400 clients connect and stay. The
# server must refuse what it cannot hold (counted, not left hanging in the backlog),
# must not spin on the pending connections, and must serve again once they leave.
. "$(dirname "$0")/../../lib/lib.sh"
SRV_NOFILE=128 start_server
t0=$(cpu_ticks "$SRV_PID")
"$PEER" "$PORT" hold 400 4 >"$T/hold.out" &
HOLD=$!
sleep 3
t1=$(cpu_ticks "$SRV_PID")
kill -0 "$SRV_PID" 2>/dev/null || fail "server died under descriptor exhaustion"
wait "$HOLD" || fail "could not open 400 connections: $(cat "$T/hold.out")"
cpu=$((t1 - t0))
# A loop that spins on EMFILE burns the whole 3 s (300 ticks).
expect_le "server CPU ticks (1/100 s) in the 3 s storm" "$cpu" 50
refused=$(peer_num closed_by_server "$T/hold.out")
if server_strategy | grep -q "a process per connection"; then
    # The limit binds each process, and the parent keeps no connection open. All
    # 400 are served.
    expect_eq "connections refused (a process per connection)" "$refused" 0
else
    [ "$refused" -gt 0 ] || fail "no connection was refused: is the limit in force?"
fi
# Service resumes: exact echoes and a full flood within the limit.
"$PEER" "$PORT" echo 1048576 >"$T/echo.out" || fail "echo after the storm: $(cat "$T/echo.out")"
flood -n 500 -c 20 -t 10 >/dev/null
expect_eq "cli_flood exit status after the storm" "$CLI_RC" 0
expect_eq "succeeded after the storm" "$(json_num succeeded "$T/report.json")" 500
# A second storm, then service again: refusing must not wear anything out.
"$PEER" "$PORT" hold 400 1 >"$T/hold2.out" || fail "second storm"
refused2=$(peer_num closed_by_server "$T/hold2.out")
"$PEER" "$PORT" echo 100000 random >"$T/echo2.out" || fail "echo after the second storm: $(cat "$T/echo2.out")"
stop_server || fail "server exit status $?"
accepted=$(stat_num accepted)
nofd=$(stat_num refused_nofd)
expect_eq "refused_nofd (server) = connections the clients saw closed" "$nofd" $((refused + refused2))
expect_eq "accepted + refused_nofd" $((accepted + nofd)) $((400 + 1 + 500 + 400 + 1))
# Timestamp lines are 2-21 bytes each.
echoed=$(stat_num bytes_echoed)
[ "$echoed" -ge $((1048576 + 100000 + 500 * 2)) ] && [ "$echoed" -le $((1048576 + 100000 + 500 * 21)) ] ||
    fail "bytes echoed: $echoed"
echo "ok: cpu_ticks=$cpu refused_nofd=$nofd accepted=$accepted"
