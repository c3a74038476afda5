# A held run accounts for every connection: one that opened and was then closed or
# reset by the server, idle or busy, is counted as dropped by its cause and makes
# the exit status 1, even when no request fell due on it. The same load on a
# server that can hold it exits 0 with zeros.
. "$(dirname "$0")/../../lib/lib.sh"
need_tool jq jq
ECHO_SERVER=$SERVER
jqr() { jq -r "$1" "$T/report.json"; }

# badsrv drop: every 10th accepted connection closed 300 ms after accepting it,
# alternately with a FIN and an RST. Under -R 200 for 1 s only the first 200 connections
# carry a request, so most of the 100 drops hit idle connections.
SERVER=$BADSRV
start_server drop
flood -c 1000 -d 1 -R 200
expect_eq "drop: exit status" "$CLI_RC" 1
expect_eq "drop: connect_failed" "$(jqr .connect_failed)" 0
expect_eq "drop: connections" "$(jqr .connections)" 1000
expect_eq "drop: dropped" "$(jqr .dropped)" 100
expect_eq "drop: connections_held" "$(jqr .connections_held)" 900
expect_eq "drop: dropped by reset" "$(jqr .connection_failures.dropped.reset)" 50
expect_eq "drop: dropped by closed_early" "$(jqr .connection_failures.dropped.closed_early)" 50
expect_eq "drop: other drop causes" \
    "$(jqr '[.connection_failures.dropped | to_entries[] | select(.key != "reset" and .key != "closed_early") | .value] | add')" 0
expect_eq "drop: connect causes" "$(jqr '[.connection_failures.connect[]] | add')" 0
expect_eq "drop: requests failed = their causes" "$(jqr '[.failures[]] | add')" "$(jqr .failed)"
cp "$T/report.json" "$T/a.json"

# The text report says the same.
"$CLI" -p "$PORT" -c 1000 -d 1 -R 200 >"$T/text" 2>"$T/cli.err"
expect_eq "drop: text exit status" "$?" 1
grep -q '^  held        900 of 1000 through the window, 100 dropped$' "$T/text" ||
    fail "text held line: $(cat "$T/text")"
grep -q '^  dropped     reset 50 closed_early 50$' "$T/text" || fail "text dropped line: $(cat "$T/text")"

# Two workers' reports are merged, drops included; so are saved reports.
flood -w 2 -c 1000 -d 1 -R 200
expect_eq "drop -w 2: exit status" "$CLI_RC" 1
expect_eq "drop -w 2: dropped" "$(jqr .dropped)" 100
expect_eq "drop -w 2: dropped by reset" "$(jqr .connection_failures.dropped.reset)" 50
"$CLI" --merge --json "$T/a.json" "$T/report.json" >"$T/m.json" 2>"$T/merge.err"
expect_eq "merge: exit status" "$?" 1
expect_eq "merge: dropped" "$(jq .dropped "$T/m.json")" 200
expect_eq "merge: dropped by closed_early" "$(jq .connection_failures.dropped.closed_early "$T/m.json")" 100
kill -KILL "$SRV_PID"; wait "$SRV_PID" 2>/dev/null; SRV_PID=

# srv_epoll at its descriptor limit: it accepts and closes what it cannot hold
# (refused_nofd); every one of those is a drop, though no request fell due on it.
SERVER=$ECHO_SERVER
SRV_NOFILE=1000
start_server
flood -c 1500 -d 1 -R 200
stop_server || fail "server exit status $?"
refused=$(stat_num refused_nofd)
[ "$refused" -gt 400 ] || fail "server refused only $refused: not at its limit"
expect_eq "at the limit: exit status" "$CLI_RC" 1
expect_eq "at the limit: connect_failed" "$(jqr .connect_failed)" 0
expect_eq "at the limit: dropped = server's refused_nofd" "$(jqr .dropped)" "$refused"
expect_eq "at the limit: dropped by closed_early" "$(jqr .connection_failures.dropped.closed_early)" "$refused"
expect_eq "at the limit: held = server's accepted" "$(jqr .connections_held)" "$(stat_num accepted)"

# Two workers hold the same load: nothing lost, exit 0.
start_server -w 2
flood -c 1500 -d 1 -R 200
expect_eq "-w 2: exit status" "$CLI_RC" 0
for k in failed connect_failed dropped; do expect_eq "-w 2: $k" "$(jqr .$k)" 0; done
expect_eq "-w 2: connections_held" "$(jqr .connections_held)" 1500
expect_eq "-w 2: requests" "$(jqr .succeeded)" 200
stop_server || fail "server exit status $?"
echo "ok: badsrv drops 100 of 1000 (50 reset, 50 closed_early); srv_epoll at 1000 descriptors dropped $refused"
