# cli_flood against broken servers: each misbehaviour is a named, counted failure,
# the exit status is 1, and the run ends within its timeout; never a hang or a crash.
# Then SIGINT stops it within a second in the middle of a 10,000-connection flood.
. "$(dirname "$0")/lib.sh"
load_lock
ECHO_SERVER=$SERVER
SERVER=$BADSRV
N=300
TMO=2
# mode: the failure causes that must account for all $N requests
while read -r mode causes; do
    start_server "$mode"
    start=$(date +%s%N)
    timeout 20 "$CLI" -p "$PORT" -n $N -t $TMO --json >"$T/r.json" 2>"$T/cli.err"
    rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    kill -KILL "$SRV_PID"; wait "$SRV_PID" 2>/dev/null; SRV_PID=
    [ $rc -eq 124 ] && fail "$mode: cli_flood hung"
    expect_eq "$mode: exit status" "$rc" 1
    expect_eq "$mode: failed" "$(json_num failed "$T/r.json")" $N
    sum=0
    for c in ${causes//+/ }; do sum=$((sum + $(json_num "$c" "$T/r.json"))); done
    expect_eq "$mode: $causes" "$sum" $N
    expect_le "$mode: ms to finish with -t $TMO" "$ms" $((TMO * 1000 + 1500))
    echo "$mode: $(grep -o '"failures":{[^}]*}' "$T/r.json") in $ms ms"
done <<'LIST'
close reset+closed_early
eof closed_early
garbage mismatch
extra mismatch
half read_timeout
silent read_timeout
noaccept connect_timeout+read_timeout
LIST

SERVER=$ECHO_SERVER
start_server
"$CLI" -p "$PORT" -n 10000000 -r 1000 -t 5 --json >"$T/r.json" 2>"$T/cli.err" &
CLI_PID=$!
sleep 1.5
start=$(date +%s%N)
kill -INT "$CLI_PID"
for _ in $(seq 300); do kill -0 "$CLI_PID" 2>/dev/null || break; sleep 0.01; done
ms=$((($(date +%s%N) - start) / 1000000))
kill -0 "$CLI_PID" 2>/dev/null && { kill -KILL "$CLI_PID"; fail "cli_flood still running 3 s after SIGINT under load"; }
wait "$CLI_PID"
expect_eq "exit status after SIGINT" "$?" 1
expect_le "ms to stop on SIGINT under load" "$ms" 1000
[ "$(json_num interrupted "$T/r.json")" -gt 0 ] || fail "no interrupted requests counted: $(cat "$T/r.json")"
[ "$(json_num succeeded "$T/r.json")" -gt 0 ] || fail "nothing succeeded before SIGINT: $(cat "$T/r.json")"
stop_server || fail "server exit status $?"
echo "ok: SIGINT under load stopped cli_flood in $ms ms"
