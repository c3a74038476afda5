# cli_flood against broken servers: each misbehaviour is a named, counted failure,
# the exit status is 1, and the run ends within its timeout; never a hang or a crash.
# An echo that comes in pieces is no failure; a stray byte on an idle held
# connection drops it as a mismatch.
# Then SIGINT stops it within a second in the middle of a 10,000-connection flood.
. "$(dirname "$0")/../../lib/lib.sh"
need_tool jq jq
ECHO_SERVER=$SERVER
SERVER=$BADSRV
N=300
TMO=1
# mode: each failure cause with its count; every other cause must be 0.
# (noaccept: a backlog of 1 completes the handshakes of at most 2 connections,
# which wait for an echo; the kernel drops the other SYNs.)
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
    for c in refused connect_timeout reset read_timeout closed_early mismatch no_ports \
             no_descriptors other interrupted; do
        want=0
        for pair in $causes; do [ "${pair%%=*}" = "$c" ] && want=${pair#*=}; done
        expect_eq "$mode: $c" "$(jq ".failures.$c" "$T/r.json")" "$want"
    done
    expect_le "$mode: ms to finish with -t $TMO" "$ms" $((TMO * 1000 + 1500))
    echo "$mode: $(grep -o '"failures":{[^}]*}' "$T/r.json") in $ms ms"
done <<'LIST'
close reset=300
eof closed_early=300
garbage mismatch=300
extra mismatch=300
half read_timeout=300
silent read_timeout=300
noaccept read_timeout=2 connect_timeout=298
LIST

# An echo in three pieces 2 ms apart is put together: every request succeeds, in
# one-shot and held runs.
start_server split
"$CLI" -p "$PORT" -n $N -c 30 -t $TMO --json >"$T/r.json" 2>"$T/cli.err"
expect_eq "split: exit status" "$?" 0
expect_eq "split: succeeded" "$(jq .succeeded "$T/r.json")" $N
"$CLI" -p "$PORT" -c 30 -d 1 -R 300 -t $TMO --json >"$T/r.json" 2>"$T/cli.err"
expect_eq "split, held: exit status" "$?" 0
expect_eq "split, held: succeeded" "$(jq .succeeded "$T/r.json")" 300
kill -KILL "$SRV_PID"; wait "$SRV_PID" 2>/dev/null; SRV_PID=
# A byte nobody asked for, 50 ms after an echo, on a held connection that is idle:
# the client drops that connection as a mismatch. 20 connections, 10 requests in
# the 1 s window, one each: every connection asked gets its stray byte (the last
# one's may come after the window closed), the others stay held, and nothing else
# is counted.
start_server stray
"$CLI" -p "$PORT" -c 20 -d 1 -R 10 -t $TMO --json >"$T/r.json" 2>"$T/cli.err"
expect_eq "stray: exit status" "$?" 1
expect_eq "stray: succeeded (the echoes were right)" "$(jq .succeeded "$T/r.json")" 10
dropped=$(jq .dropped "$T/r.json")
[ "$dropped" -ge 9 ] && [ "$dropped" -le 10 ] || fail "stray: dropped $dropped, want 9 or 10 (the connections asked)"
expect_eq "stray: drops that are mismatches" "$(jq .connection_failures.dropped.mismatch "$T/r.json")" "$dropped"
expect_eq "stray: connections held" "$(jq .connections_held "$T/r.json")" $((20 - dropped))
expect_eq "stray: failed requests" "$(jq .failed "$T/r.json")" 0
kill -KILL "$SRV_PID"; wait "$SRV_PID" 2>/dev/null; SRV_PID=

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
