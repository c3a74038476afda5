# The server on [::1]: its start line names the address, a 1 MiB random echo comes
# back exact (test/helpers/peer over IPv6), and cli_flood -a ::1 gets a flood of 1,000
# connections echoed, one-shot and held with -s ::1 (named source ports on IPv6
# sources), every request and connection counted by the server.
. "$(dirname "$0")/../../lib/lib.sh"
need_tool jq jq
[ -e /proc/net/if_inet6 ] || skip "the kernel has no IPv6"
start_server -a ::1
grep -q "listening on \[::1\]:$PORT," "$T/srv.out" || fail "start line: $(cat "$T/srv.out")"
PEER_HOST=::1 "$PEER" "$PORT" echo 1048576 random >"$T/echo.out" || fail "1 MiB over IPv6: $(cat "$T/echo.out")"
json() { jq -e "$1" "$T/report.json" || fail "no $1 in the report: $(head -c 300 "$T/report.json")"; }
"$CLI" -a ::1 -p "$PORT" -n 1000 -c 1000 -t 20 --json >"$T/report.json" 2>"$T/cli.err"
expect_eq "cli_flood -a ::1 exit status" "$?" 0
expect_eq "succeeded over IPv6" "$(json .succeeded)" 1000
expect_eq "target" "$(jq -r .target "$T/report.json")" "[::1]:$PORT"
"$CLI" -a ::1 -s ::1 -p "$PORT" -c 1000 -d 2 -R 1000 -t 20 --json >"$T/report.json" 2>"$T/cli.err"
expect_eq "cli_flood -a ::1 -s ::1 (held) exit status" "$?" 0
expect_eq "connections held from source ::1" "$(json .connections_held)" 1000
expect_eq "held requests (1,000/s for 2 s) succeeded" "$(json .succeeded)" 2000
stop_server || fail "server exit status $?"
expect_eq "accepted" "$(stat_num accepted)" $((1 + 1000 + 1000))
expect_eq "bytes echoed by the peer (the rest are timestamp lines)" \
    $(( $(stat_num bytes_echoed) >= 1048576 )) 1
echo "ok: $(cat "$T/echo.out")"
