# cli_flood's checks hold over IPv6: against test/badsrv on [::1], a wrong echo is
# a mismatch and an early close is closed_early, each counted alone, exit 1; an
# IPv6 address in -s against an IPv4 target is refused with a message.
. "$(dirname "$0")/../../lib/lib.sh"
need_tool jq jq
[ -e /proc/net/if_inet6 ] || skip "the kernel has no IPv6"
for mode in garbage eof; do
    BADSRV_HOST=::1 "$BADSRV" "$mode" 0 >"$T/bad.out" 2>&1 &
    BAD=$!
    wait_for 5 "badsrv $mode listening on [::1]" grep -q 'listening on \[::1\]:' "$T/bad.out"
    port=$(sed -n 's/.*:\([0-9]*\), mode.*/\1/p' "$T/bad.out")
    "$CLI" -a ::1 -p "$port" -n 100 -c 10 -t 5 --json >"$T/report.json" 2>"$T/cli.err"
    rc=$?
    kill "$BAD"; wait "$BAD" 2>/dev/null
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
