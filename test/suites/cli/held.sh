# Held connections (-d): a closed loop fails nothing and rates over the window;
# --connect-rate paces the connects and reports how long they took; --blocking
# workers answer every request.
. "$(dirname "$0")/../../lib/lib.sh"
start_server
flood -c 100 -d 3
expect_eq "closed loop exit status" "$CLI_RC" 0
expect_json failed 0
expect_json duration_s 3.000
expect_json connections 100
expect_json peak_open 100
succ=$(json_num succeeded "$T/report.json")
rps=$(json_num requests_per_s "$T/report.json")
[ "$succ" -gt 1000 ] || fail "only $succ requests in 3 s"
awk -v s="$succ" -v r="$rps" 'BEGIN { exit !(r > s / 3 - 1 && r < s / 3 + 1) }' ||
    fail "requests_per_s $rps is not succeeded/3 s ($succ)"
grep -q '"connect_s":' "$T/report.json" || fail "no connect_s"

flood -c 200 -d 1 --connect-rate 400
expect_eq "connect-rate exit status" "$CLI_RC" 0
cs=$(json_num connect_s "$T/report.json")
awk -v c="$cs" 'BEGIN { exit !(c >= 0.45 && c < 2) }' || fail "connect_s $cs for 200 at 400/s"
expect_json connect_failed 0
"$CLI" -p "$PORT" -c 200 -d 1 --connect-rate 400 >"$T/text" || fail "text run: $?"
grep -q 'connect     200 connected in 0\.[4-9][0-9]* s, 0 could not connect' "$T/text" ||
    fail "text report: $(cat "$T/text")"

flood --blocking 20 -n 2000
expect_eq "blocking exit status" "$CLI_RC" 0
expect_eq "blocking succeeded" "$(json_num succeeded "$T/report.json")" 2000
expect_eq "blocking concurrency" "$(json_num concurrency "$T/report.json")" 20
peak=$(json_num peak_open "$T/report.json")
[ "$peak" -ge 1 ] && [ "$peak" -le 20 ] || fail "blocking peak_open $peak, want 1..20"
stop_server || fail "server exit status $?"
echo ok
