# 10,000 simultaneous one-shot requests: every one echoed, none failed.
. "$(dirname "$0")/../../lib/lib.sh"
start_server
flood -n 10000 -t 30
expect_eq "cli_flood exit status" "$CLI_RC" 0
expect_json succeeded 10000
expect_json failed 0
expect_eq "peak open" "$(json_num peak_open "$T/report.json")" 10000
stop_server || fail "server exit status $?"
expect_eq "server accepted" "$(stat_num accepted)" 10000
echo "ok: server peak_open=$(stat_num peak_open)"
