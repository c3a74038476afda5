# -t 1 closes a connection after 1 s without input, never before and at most 1 s
# late, and counts it; a busy connection (a request every 250 ms) outlives four
# timeouts. A server that closes connections by age, or rounds their idle time to
# whole seconds, fails one or the other.
. "$(dirname "$0")/../../lib/lib.sh"
start_server -t 1
"$PEER" "$PORT" busy 4 250 >"$T/busy.out" &
BUSY=$!
# Not a wait for anything: the idle connections open 0.6 s into the server's
# second, where rounding to whole seconds would close them after 0.4 s.
sleep 0.6
"$PEER" "$PORT" hold 5 10 until-closed >"$T/hold.out" &
HOLD=$!
wait "$BUSY" || fail "a busy connection under -t 1: $(cat "$T/busy.out")"
"$PEER" "$PORT" echo 65536 >"$T/echo.out" || fail "echo while idle connections are being closed: $(cat "$T/echo.out")"
wait "$HOLD" || fail "idle clients: $(cat "$T/hold.out")"
expect_eq "idle connections the server closed" "$(peer_num closed_by_server "$T/hold.out")" 5
idle_min=$(peer_num idle_min "$T/hold.out")
idle_max=$(peer_num idle_max "$T/hold.out")
awk -v t="$idle_min" 'BEGIN { exit !(t >= 1.0) }' || fail "an idle connection closed after $idle_min s: before the 1 s timeout"
awk -v t="$idle_max" 'BEGIN { exit !(t <= 2.0) }' || fail "an idle connection closed after $idle_max s: more than 1 s past the timeout"
stop_server || fail "server exit status $?"
expect_eq "idle_closed" "$(stat_num idle_closed)" 5
expect_eq "bytes echoed" "$(stat_num bytes_echoed)" $((65536 + $(peer_num sent "$T/busy.out")))
echo "ok: idle connections closed after $idle_min-$idle_max s; $(cat "$T/busy.out")"
# A client that sends and never reads: the server's echo stalls on it, and a
# stalled echo is idle too, closed by the timeout (not left until the peer goes,
# then counted a reset). The blocking servers once were only when their send timed
# out with nothing sent: a window update now and then kept the echo alive, and
# one of four such connections was enough to show it. Where the echo is sent from
# buffers lent to the kernel (srv_uring's provided buffers), the connection closes
# in the middle of a gathered send, and the buffers that send holds come back when
# it completes.
start_server -t 1
"$PEER" "$PORT" noread 4 3 >"$T/noread.out" 2>&1
stop_server || fail "server exit status $?"
expect_eq "non-readers the peer saw closed ($(tail -1 "$T/noread.out"))" "$(peer_num closed_by_server "$T/noread.out")" 4
expect_eq "non-readers closed by the timeout" "$(stat_num idle_closed)" 4
expect_eq "non-readers counted reset" "$(stat_num reset)" 0
expect_bufs_back
echo "ok: four non-readers closed by the timeout, every buffer back"
