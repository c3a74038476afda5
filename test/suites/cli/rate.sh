# -R holds the requested rate: 2000 requests/s over 100 held connections for 4 s,
# within 2%, with no request sent late enough to show in the corrected latency.
. "$(dirname "$0")/../../lib/lib.sh"
start_server
flood -d 4 -c 100 -R 2000
expect_eq "cli_flood exit status" "$CLI_RC" 0
expect_eq "failed" "$(json_num failed "$T/report.json")" 0
rps=$(json_num requests_per_s "$T/report.json")
awk -v r="$rps" 'BEGIN { exit !(r >= 1960 && r <= 2040) }' || fail "requests_per_s $rps, want 2000 +- 2%"
succ=$(json_num succeeded "$T/report.json")
[ "$succ" -ge 7840 ] && [ "$succ" -le 8160 ] || fail "succeeded $succ, want 8000 +- 2%"
wall=$(json_num wall_s "$T/report.json")
awk -v w="$wall" 'BEGIN { exit !(w >= 4 && w < 5) }' || fail "wall_s $wall: the schedule ran slow or fast"
# A client that fell behind its schedule would show it here (corrected p50).
p50=$(grep -o '"latency_us":{[^}]*' "$T/report.json" | grep -o '"p50":[0-9.]*' | cut -d: -f2)
awk -v p="$p50" 'BEGIN { exit !(p < 20000) }' || fail "corrected p50 $p50 us: requests went out late"
grep -q '"service_us":{' "$T/report.json" || fail "no service_us in the JSON of a -R run"
stop_server || fail "server exit status $?"
expect_eq "server accepted" "$(stat_num accepted)" 100
echo "ok: $rps requests/s, corrected p50 $p50 us"
