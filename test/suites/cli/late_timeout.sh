# A read timeout is counted even when, at the client's previous look at its
# deadlines, nothing was in flight: one connection at 2 requests/s against a server
# that answers the first request and then never (badsrv mute=1). The second
# request times out after 1 s and drops the connection; the third, owed on it, and
# the three due after are lost to the same cause. A client that skips its
# deadline scan while it believes none is near (it keeps the earliest deadline)
# but forgets a deadline set after an empty scan never ends this run.
. "$(dirname "$0")/../../lib/lib.sh"
need_tool jq jq
SERVER=$BADSRV
start_server mute=1
timeout 20 "$CLI" -p "$PORT" -c 1 -R 2 -d 3 -t 1 --json >"$T/report.json" 2>"$T/cli.err"
rc=$?
[ $rc -eq 124 ] && fail "cli_flood did not end within 20 s of a 3 s run: a deadline was never looked at"
expect_eq "exit status" "$rc" 1
expect_json succeeded 1
expect_json requests 6
expect_eq "requests lost to read_timeout" "$(jq .failures.read_timeout "$T/report.json")" 5
expect_eq "requests lost to any other cause" \
    "$(jq '[.failures | to_entries[] | select(.key != "read_timeout") | .value] | add' "$T/report.json")" 0
expect_eq "connections dropped by read_timeout" "$(jq .connection_failures.dropped.read_timeout "$T/report.json")" 1
expect_json dropped 1
echo "ok: $(jq -c '{succeeded, failed, read_timeout: .failures.read_timeout}' "$T/report.json")"
