# 1 MiB echoed byte-exact to a client that reads slowly through a tiny receive
# buffer, so the server's writes come up short and it must keep what is unsent.
. "$(dirname "$0")/../../lib/lib.sh"
start_server
"$PEER" "$PORT" echo 1048576 slow || fail "slow reader"
"$PEER" "$PORT" echo 4194304 || fail "4 MiB at full speed"
stop_server || fail "server exit status $?"
expect_eq "bytes echoed" "$(stat_num bytes_echoed)" $((1048576 + 4194304))
echo ok
