# A steady one-shot flood (the listen queue never drains): the server still closes
# and, for srv_fork, reaps as it goes. Its peak of open connections stays near the
# client's concurrency, and no zombie is left behind.
. "$(dirname "$0")/../../lib/lib.sh"
start_server
flood -n 20000 -c 1000 -t 60
expect_eq "failed" "$(json_num failed "$T/report.json")" 0
sleep 0.5
zombies=$(ps -o stat= --ppid "$SRV_PID" | grep -c '^Z')
expect_eq "zombie children after the flood" "$zombies" 0
stop_server || fail "server exit status $?"
expect_eq "accepted" "$(stat_num accepted)" 20000
peak=$(stat_num peak_open)
[ "$peak" -le 5000 ] || fail "peak_open=$peak for 1000 concurrent clients: connections (or children) are not let go"
echo "ok: peak_open=$peak"
