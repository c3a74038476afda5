# Idle and slow clients: 3,000 connections that never send do not stop 2,000 others
# from being served; -t closes the idle ones and counts them; a client that sends one
# byte at a time is served byte-exact.
. "$(dirname "$0")/lib.sh"
load_lock
start_server -t 3
# Held until the server has closed them all, 20 s at most: srv_fork under ASan
# forks a few hundred children a second, and each one's timeout starts when its
# child runs (with a fixed 6 s hold, 2,743 of 3,000 were closed in time).
"$PEER" "$PORT" hold 3000 20 until-closed >"$T/hold.out" &
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
# A 3 s timeout: the server closed every idle connection, and none before 3 s.
expect_eq "idle connections the server closed" "$(peer_num closed_by_server "$T/hold.out")" 3000
waited=$(peer_num waited "$T/hold.out")
awk -v w="$waited" 'BEGIN { exit !(w >= 2.5) }' || fail "the last idle connection closed $waited s after they all opened: before the 3 s timeout"
"$PEER" "$PORT" echo 100000 bytewise >"$T/bytewise.out" || fail "bytewise: $(cat "$T/bytewise.out")"
stop_server || fail "server exit status $?"
expect_eq "idle_closed" "$(stat_num idle_closed)" 3000
expect_eq "accepted" "$(stat_num accepted)" $((3000 + 1 + 2000 + 1))
echo "ok: $(cat "$T/drip.out" "$T/bytewise.out" | tr '\n' ' ')"
