# cli_flood's checks hold over IPv6: against test/helpers/badsrv on [::1], a wrong echo is
# a mismatch and an early close is closed_early, each counted alone, exit 1; an
# IPv6 address in -s against an IPv4 target is refused with a message.
. "$(dirname "$0")/../../lib/lib.sh"
need_tool jq jq
[ -e /proc/net/if_inet6 ] || skip "the kernel has no IPv6"
# Each badsrv through start_server: its output file is emptied before it starts
# and the port is read from that process's own start line. (This test once read
# the file while the second badsrv's shell had yet to truncate it: the first
# badsrv's line, a port nobody listened on any more, connect_failed 100 and
# closed_early 0, in 0.07 s.)
SERVER=$BADSRV
export BADSRV_HOST=::1
for mode in garbage eof; do
    start_server "$mode"
    grep -q "listening on \[::1\]:$PORT, mode $mode\$" "$T/srv.out" || fail "badsrv $mode start line: $(cat "$T/srv.out")"
    "$CLI" -a ::1 -p "$PORT" -n 100 -c 10 -t 5 --json >"$T/report.json" 2>"$T/cli.err"
    rc=$?
    kill -KILL "$SRV_PID"; wait "$SRV_PID" 2>/dev/null; SRV_PID=
    expect_eq "exit status against badsrv $mode over IPv6" "$rc" 1
    want=mismatch
    [ "$mode" = eof ] && want=closed_early
    expect_eq "$want against badsrv $mode" "$(jq .failures.$want "$T/report.json")" 100
    expect_eq "every other cause against badsrv $mode" \
        "$(jq "[.failures | to_entries[] | select(.key != \"$want\") | .value] | add" "$T/report.json")" 0
done
"$CLI" -a 127.0.0.1 -s ::1 -p 9 -c 1 -d 1 >"$T/out" 2>"$T/err"
expect_eq "exit status for an IPv6 source and an IPv4 target" "$?" 2
grep -q "cli_flood: -s: source and server addresses differ in family (127.0.0.1)" "$T/err" ||
    fail "no message naming the source family: $(cat "$T/err")"
echo "ok"
