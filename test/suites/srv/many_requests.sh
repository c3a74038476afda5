# 1,000 connections x 100 requests each, over held connections.
. "$(dirname "$0")/../../lib/lib.sh"
start_server
flood -n 100000 -c 1000 -r 100 -t 30
expect_eq "cli_flood exit status" "$CLI_RC" 0
expect_eq "succeeded" "$(json_num succeeded "$T/report.json")" 100000
expect_eq "connections" "$(json_num connections "$T/report.json")" 1000
stop_server || fail "server exit status $?"
expect_eq "server accepted" "$(stat_num accepted)" 1000
echo ok
