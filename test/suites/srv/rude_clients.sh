# Peers that reset or half-close mid-stream neither crash nor stall the server.
. "$(dirname "$0")/../../lib/lib.sh"
start_server
for _ in $(seq 20); do
    "$PEER" "$PORT" reset 200000 >/dev/null || fail "reset client"
done
"$PEER" "$PORT" halfclose 300000 || fail "half-close: the rest must be echoed, then EOF"
"$PEER" "$PORT" halfclose 1 || fail "half-close after one byte"
kill -0 "$SRV_PID" || fail "server died"
flood -n 500 -t 10
expect_eq "requests after the rude ones" "$(json_num succeeded "$T/report.json")" 500
stop_server || fail "server exit status $?"
expect_eq "server accepted" "$(stat_num accepted)" 522
# Each reset client met the server mid-echo: one reset each, and no other error.
expect_eq "server reset" "$(stat_num reset)" 20
expect_eq "server io_error" "$(stat_num io_error)" 0
echo "ok: reset=$(stat_num reset) io_error=$(stat_num io_error)"
