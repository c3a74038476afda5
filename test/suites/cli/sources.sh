# Source addresses and warm-up in held runs:
#  - -s a,b,c spreads 300 held connections evenly over the three sources, as the
#    server sees them (ss: 100 from each), and -s with a range (a-b) likewise;
#  - --warmup 1 runs the schedule for a second before the window and leaves it out
#    of every count: the report says warmup_s 1 and 3,000 requests for -R 1000
#    -d 3, while the server echoed about 4,000 lines.
. "$(dirname "$0")/../../lib/lib.sh"
need_tool jq jq
need_tool ss iproute2
start_server
# The server's sockets by their address, not their port alone: another test's
# client may have the same number as its own source port.
mine="( src 127.0.0.1:$PORT )"
per_source() {  # the server's established connections, counted by peer address
    ss -Htn state established "$mine" | awk '{ sub(/:[0-9]+$/, "", $4); print $4 }' |
        sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' '
}
for spec in 127.0.0.2,127.0.0.3,127.0.0.4 127.0.0.5-127.0.0.7; do
    "$CLI" -p "$PORT" -s "$spec" -c 300 -d 2 -R 300 -t 10 --json >"$T/report.json" 2>"$T/cli.err" &
    CLI_PID=$!
    all_open() { [ "$(ss -Htn state established "$mine" | wc -l)" -ge 300 ]; }
    wait_for 10 "300 connections open from -s $spec" all_open
    got=$(per_source)
    wait "$CLI_PID" || fail "-s $spec: exit status $?: $(cat "$T/cli.err")"
    case $spec in
    *,*) want="127.0.0.2=100 127.0.0.3=100 127.0.0.4=100 " ;;
    *) want="127.0.0.5=100 127.0.0.6=100 127.0.0.7=100 " ;;
    esac
    expect_eq "connections per source for -s $spec" "$got" "$want"
    expect_eq "held from -s $spec" "$(jq .connections_held "$T/report.json")" 300
    expect_eq "succeeded from -s $spec" "$(jq .succeeded "$T/report.json")" 600
done
stop_server || fail "server exit status $?"

start_server
"$CLI" -p "$PORT" -c 10 -d 3 -R 1000 --warmup 1 -t 10 --json >"$T/report.json" 2>"$T/cli.err"
expect_eq "exit status with --warmup" "$?" 0
expect_eq "warmup_s" "$(jq .warmup_s "$T/report.json")" 1
expect_eq "requests in the window (warm-up left out)" "$(jq .requests "$T/report.json")" 3000
expect_eq "succeeded in the window" "$(jq .succeeded "$T/report.json")" 3000
stop_server || fail "server exit status $?"
# Each line is CLOCK_MONOTONIC in decimal nanoseconds and a newline; near a power
# of ten the length may change in the run, so one byte either way is allowed.
len=$(awk '{ printf "%.0f", $1 * 1e9 }' /proc/uptime | wc -c)
lines_ok=0
for l in $len $((len + 1)) $((len + 2)); do
    lines=$(( $(stat_num bytes_echoed) / l ))
    [ "$lines" -ge 3900 ] && [ "$lines" -le 4100 ] && lines_ok=1
done
[ "$lines_ok" = 1 ] || fail "the server echoed $(stat_num bytes_echoed) bytes: not about 4,000 lines of $((len + 1)) bytes"
echo "ok: $want; warm-up echoed but not counted"
