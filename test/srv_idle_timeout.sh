# -t 1 closes idle connections after about a second and counts them; a busy
# connection is left alone.
. "$(dirname "$0")/lib.sh"
start_server -t 1
"$PEER" "$PORT" hold 5 6 >"$T/hold.out" &
HOLD=$!
sleep 3.5
"$PEER" "$PORT" echo 65536 || fail "echo while idle connections are being closed"
kill "$HOLD" 2>/dev/null; wait "$HOLD" 2>/dev/null
stop_server || fail "server exit status $?"
expect_eq "idle_closed" "$(stat_num idle_closed)" 5
expect_eq "bytes echoed" "$(stat_num bytes_echoed)" 65536
echo ok
