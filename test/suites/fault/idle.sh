# Idle and slow clients: 3,000 connections that never send do not stop 2,000 others
# from being served; -t 3 closes the idle ones, none before 3 s, and counts them; a
# busy client (a request a second for 4 s) outlives the timeout (srv_idle_timeout has
# one outlive four); a client that sends one
# byte at a time is served byte-exact.
. "$(dirname "$0")/../../lib/lib.sh"
start_server -t 3
# Held until the server has closed them all, 20 s at most: srv_fork under ASan
# forks a few hundred children a second, and each one's timeout starts when its
# child runs (with a fixed 6 s hold, 2,743 of 3,000 were closed in time).
"$PEER" "$PORT" hold 3000 20 until-closed >"$T/hold.out" &
HOLD=$!
wait_for 10 "3,000 idle connections opened" grep -q opened= "$T/hold.out"
expect_eq "idle connections opened" "$(peer_num opened "$T/hold.out")" 3000
# Active clients are not idle: a drip of one byte per millisecond for ~1.5 s keeps
# its connection across no timeout, and the flood is served beside the idle ones.
"$PEER" "$PORT" echo 1000 drip >"$T/drip.out" &
DRIP=$!
"$PEER" "$PORT" busy 4 1000 >"$T/busy.out" &
BUSY=$!
flood -n 2000 -t 10 >/dev/null
expect_eq "cli_flood exit status beside 3,000 idle connections" "$CLI_RC" 0
expect_eq "succeeded beside 3,000 idle connections" "$(json_num succeeded "$T/report.json")" 2000
wait "$DRIP" || fail "one byte at a time: $(cat "$T/drip.out")"
wait "$HOLD" || fail "idle clients: $(cat "$T/hold.out")"
# A 3 s timeout: the server closed every idle connection, and none before 3 s after
# its connect. How late the last one goes depends on how soon the server took it up
# (srv_fork's child starts its timer): srv_idle_timeout checks the upper bound.
expect_eq "idle connections the server closed" "$(peer_num closed_by_server "$T/hold.out")" 3000
idle_min=$(peer_num idle_min "$T/hold.out")
awk -v t="$idle_min" 'BEGIN { exit !(t >= 3.0) }' || fail "an idle connection closed $idle_min s after its connect: before the 3 s timeout"
wait "$BUSY" || fail "a busy connection beside 3,000 idle ones: $(cat "$T/busy.out")"
"$PEER" "$PORT" echo 100000 bytewise >"$T/bytewise.out" || fail "bytewise: $(cat "$T/bytewise.out")"
stop_server || fail "server exit status $?"
expect_eq "idle_closed" "$(stat_num idle_closed)" 3000
expect_eq "accepted" "$(stat_num accepted)" $((3000 + 1 + 1 + 2000 + 1))
echo "ok: idle ones closed after $idle_min-$(peer_num idle_max "$T/hold.out") s; $(cat "$T/drip.out" "$T/busy.out" "$T/bytewise.out" | tr '\n' ' ')"
