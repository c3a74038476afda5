# What the start line promises and what the common options do, for every server:
#  - capacity: under ulimit -n 100, a server whose start line says "up to N" (N
#    below the limit: descriptors bind it) holds N connections and refuses, counted,
#    every one past them; one whose capacity is not bound by descriptors (a process
#    per connection) holds more connections than the limit;
#  - inherited descriptors (five, opened on purpose, every other closed): the
#    promise is exactly five lower, and kept: held up to it, refused past it;
#  - a port already taken: exit 1 and the message naming the address and the fix;
#  - -b sets the listen backlog (ss shows it), -b 0 is a usage error (2);
#  - -q prints neither start line nor statistics, and still serves.
. "$(dirname "$0")/../../lib/lib.sh"
need_tool ss iproute2
SRV_NOFILE=100 start_server
cap=$(sed -n 's/.*, up to \([0-9]*\) connections (RLIMIT_NOFILE 100)$/\1/p' "$T/srv.out")
[ -n "$cap" ] || fail "no 'up to N connections (RLIMIT_NOFILE 100)' in the start line: $(cat "$T/srv.out")"
if [ "$cap" -lt 100 ]; then
    "$PEER" "$PORT" hold "$cap" 1 >"$T/hold.out" || fail "hold $cap: $(cat "$T/hold.out")"
    expect_eq "connections refused of the $cap the start line promises" "$(peer_num closed_by_server "$T/hold.out")" 0
    "$PEER" "$PORT" hold $((cap + 5)) 1 >"$T/hold2.out" || fail "hold $((cap + 5)): $(cat "$T/hold2.out")"
    expect_eq "connections refused past the $cap promised" "$(peer_num closed_by_server "$T/hold2.out")" 5
    refused=5
else
    "$PEER" "$PORT" hold 200 1 >"$T/hold.out" || fail "hold 200: $(cat "$T/hold.out")"
    expect_eq "connections refused of 200 (capacity $cap, not bound by descriptors)" \
        "$(peer_num closed_by_server "$T/hold.out")" 0
    refused=0
fi
stop_server || fail "server exit status $?"
expect_eq "refused_nofd" "$(stat_num refused_nofd)" "$refused"

# Descriptors inherited on purpose, outside whatever the caller leaks (CTest's log):
# started with none past stdio, then with five (3-7), under ulimit -n 100. A server
# bound by descriptors promises exactly 5 fewer, holds every one it promises and
# refuses, counted, each past them; one that is not promises the same.
SRV_NOFILE=100 SRV_INHERIT=0 start_server
cap0=$(sed -n 's/.*, up to \([0-9]*\) connections (RLIMIT_NOFILE 100)$/\1/p' "$T/srv.out")
[ -n "$cap0" ] || fail "no capacity in the start line with no inherited descriptors: $(cat "$T/srv.out")"
stop_server || fail "server exit status $?"
SRV_NOFILE=100 SRV_INHERIT=5 start_server
cap5=$(sed -n 's/.*, up to \([0-9]*\) connections (RLIMIT_NOFILE 100)$/\1/p' "$T/srv.out")
expect_eq "descriptors 3-7 as the server sees them" \
    "$(for fd in 3 4 5 6 7; do readlink /proc/$SRV_PID/fd/$fd; done | tr '\n' ' ')" "$(printf '/dev/null %.0s' 1 2 3 4 5)"
if [ "$cap0" -lt 100 ]; then
    expect_eq "capacity with 5 inherited descriptors (with none: $cap0)" "$cap5" $((cap0 - 5))
    "$PEER" "$PORT" hold "$cap5" 1 >"$T/hold.out" || fail "hold $cap5: $(cat "$T/hold.out")"
    expect_eq "refused of the $cap5 promised with 5 inherited" "$(peer_num closed_by_server "$T/hold.out")" 0
    "$PEER" "$PORT" hold $((cap5 + 3)) 1 >"$T/hold2.out" || fail "hold $((cap5 + 3)): $(cat "$T/hold2.out")"
    expect_eq "refused past the $cap5 promised with 5 inherited" "$(peer_num closed_by_server "$T/hold2.out")" 3
    stop_server || fail "server exit status $?"
    expect_eq "refused_nofd with 5 inherited" "$(stat_num refused_nofd)" 3
else
    expect_eq "capacity with 5 inherited descriptors, not bound by them" "$cap5" "$cap0"
    stop_server || fail "server exit status $?"
fi
unset SRV_INHERIT

start_server -b 7
expect_eq "listen backlog with -b 7 (ss Send-Q)" "$(ss -Hltn "( sport = :$PORT )" | awk '{ print $3 }')" 7
"$SERVER" "$PORT" >"$T/second.out" 2>"$T/second.err"
expect_eq "exit status on a port already taken" "$?" 1
name=$(basename "$SERVER")
grep -qxF "$name: bind 127.0.0.1:$PORT: Address already in use (another server holds the port: stop it or pick another port)" "$T/second.err" ||
    fail "bind failure message: $(cat "$T/second.err")"
[ -s "$T/second.out" ] && fail "a server that could not bind printed: $(cat "$T/second.out")"
stop_server || fail "server exit status $?"
"$SERVER" -b 0 >"$T/o" 2>"$T/e"
expect_eq "exit status for -b 0" "$?" 2
grep -qxF "$name: backlog is too small: 0 (allowed 1-1048576)" "$T/e" || fail "-b 0 message: $(cat "$T/e")"

# -q: no start line to read the port from; ss names the listener of this process.
setsid "$SERVER" -q 0 >"$T/q.out" 2>"$T/q.err" &
SRV_PID=$! SRV_SID=$!
quiet_listening() {
    ss -Hltnp 2>/dev/null | grep "pid=$SRV_PID," | awk '{ n = split($4, a, ":"); print a[n] }' >"$T/why"
    [ -s "$T/why" ]
}
wait_for 5 "the -q server listening" quiet_listening
PORT=$(head -1 "$T/why")
"$PEER" "$PORT" echo 65536 >"$T/echo.out" || fail "echo from a -q server: $(cat "$T/echo.out")"
stop_server || fail "-q server exit status $?"
[ -s "$T/q.out" ] && fail "-q printed on stdout: $(cat "$T/q.out")"
[ -s "$T/q.err" ] && fail "-q printed on stderr: $(cat "$T/q.err")"
echo "ok: capacity $cap under ulimit -n 100, refused past it: $refused; $cap0 with no descriptor inherited, $cap5 with 5"
