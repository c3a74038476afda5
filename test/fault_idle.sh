# Idle and slow clients: 3,000 connections that never send do not stop 2,000 others
# from being served; -t closes the idle ones and counts them; a client that sends one
# byte at a time is served byte-exact.
. "$(dirname "$0")/lib.sh"
load_lock
start_server -t 3
"$PEER" "$PORT" hold 3000 6 >"$T/hold.out" &
HOLD=$!
for _ in $(seq 100); do grep -q opened= "$T/hold.out" && break; sleep 0.1; done
expect_eq "idle connections opened" "$(peer_num opened "$T/hold.out")" 3000
# Active clients are not idle: a drip of one byte per millisecond for ~1.5 s keeps
# its connection across no timeout, and the flood is served beside the idle ones.
"$PEER" "$PORT" echo 1000 drip >"$T/drip.out" &
DRIP=$!
flood -n 2000 -t 10 >/dev/null
expect_eq "cli_flood exit status beside 3,000 idle connections" "$CLI_RC" 0
expect_eq "succeeded beside 3,000 idle connections" "$(json_num succeeded "$T/report.json")" 2000
wait "$DRIP" || fail "one byte at a time: $(cat "$T/drip.out")"
wait "$HOLD" || fail "idle clients: $(cat "$T/hold.out")"
# Held 6 s against a 3 s timeout: the server closed every idle connection.
expect_eq "idle connections the server closed" "$(peer_num closed_by_server "$T/hold.out")" 3000
"$PEER" "$PORT" echo 100000 bytewise >"$T/bytewise.out" || fail "bytewise: $(cat "$T/bytewise.out")"
stop_server || fail "server exit status $?"
expect_eq "idle_closed" "$(stat_num idle_closed)" 3000
expect_eq "accepted" "$(stat_num accepted)" $((3000 + 1 + 2000 + 1))
echo "ok: $(cat "$T/drip.out" "$T/bytewise.out" | tr '\n' ' ')"
