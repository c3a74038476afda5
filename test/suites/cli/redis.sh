# cli_flood --send against redis-server: PING framed by --expect, INCR by --until,
# exact counts in one-shot, held -R and --blocking runs, checked against Redis's own
# counter; a wrong --expect is a mismatch and nothing else; with --maxclients below
# -c, the clients Redis turns away (an error, then a close) are lost, not held.
. "$(dirname "$0")/../../lib/real.sh"
need_tool jq jq
need_tool redis-server redis-server
need_tool redis-cli redis-tools
# --protected-mode no: cli_flood spreads loopback connections over 127.0.0.1-8 by
# default, and protected mode answers any source but 127.0.0.1 with -DENIED.
start_real redis-server --port @PORT@ --bind 127.0.0.1 --save '' --appendonly no --protected-mode no
r() { timeout 30 "$CLI" -p "$PORT" --json -t 5 "$@" >"$T/r.json" 2>"$T/cli.err"; }
ping=(--send 'PING\r\n' --expect '+PONG\r\n')

r "${ping[@]}" -n 2000 -c 20 -r 100; exact "PING one-shot" "$T/r.json" $? 2000
expect_eq "PING: protocol" "$(jq -r .protocol "$T/r.json")" send
r "${ping[@]}" -d 1 -c 10 -R 1000; exact "PING held -R" "$T/r.json" $? 1000
r --send 'INCR n\r\n' --until '\r\n' -n 500 -c 5 -r 100; exact "INCR one-shot" "$T/r.json" $? 500
r --send 'INCR n\r\n' --until '\r\n' -d 1 -c 10 -R 700; exact "INCR held -R" "$T/r.json" $? 700
r --send 'INCR n\r\n' --until '\r\n' --blocking 2 -n 300 -r 50; exact "INCR --blocking" "$T/r.json" $? 300
expect_eq "Redis counted every INCR" "$(redis-cli -p "$PORT" GET n)" 1500

r --send 'PING\r\n' --expect '+PANG\r\n' -n 100 -c 5 -r 20; rc=$?
expect_eq "wrong --expect: exit status" $rc 1
expect_eq "wrong --expect: succeeded" "$(jq .succeeded "$T/r.json")" 0
causes_only "wrong --expect" "$T/r.json" mismatch=100
stop_server

# --maxclients 5 and 10 held connections: 5 are answered "-ERR max number of
# clients reached" and closed; the client counts them dropped (the error came
# unasked: a mismatch), and holds the other 5.
start_real redis-server --port @PORT@ --bind 127.0.0.1 --save '' --appendonly no --protected-mode no \
    --maxclients 5
r "${ping[@]}" -d 1 -c 10 --connect-rate 100; rc=$?
expect_eq "maxclients: exit status" $rc 1
expect_eq "maxclients: held ($(cat "$T/r.json"))" "$(jq .connections_held "$T/r.json")" 5
expect_eq "maxclients: dropped" "$(jq .dropped "$T/r.json")" 5
expect_eq "maxclients: drops by mismatch ($(jq -c .connection_failures "$T/r.json"))" \
    "$(jq .connection_failures.dropped.mismatch "$T/r.json")" 5
stop_server
