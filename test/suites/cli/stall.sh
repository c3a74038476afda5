# A server stopped for 1 s in the middle of a paced run: the corrected latency
# (from the time each request was due) shows the stall, p99 >= 0.5 s; the service
# time (from the send) need not, since requests owed during the stall go out late.
. "$(dirname "$0")/../../lib/lib.sh"
trap '[ -n "$SRV_PID" ] && kill -CONT "$SRV_PID" 2>/dev/null; cleanup' EXIT
start_server
"$CLI" -p "$PORT" --json -d 6 -c 20 -R 1000 >"$T/report.json" 2>"$T/cli.err" &
cli=$!
sleep 2.5
kill -STOP "$SRV_PID"
sleep 1
kill -CONT "$SRV_PID"
wait "$cli"; rc=$?
cat "$T/report.json"
expect_eq "cli_flood exit status" "$rc" 0
expect_eq "failed" "$(json_num failed "$T/report.json")" 0
lat=$(grep -o '"latency_us":{[^}]*' "$T/report.json" | grep -o '"p99":[0-9.]*' | cut -d: -f2)
svc=$(grep -o '"service_us":{[^}]*' "$T/report.json" | grep -o '"p99":[0-9.]*' | cut -d: -f2)
[ -n "$lat" ] && [ -n "$svc" ] || fail "no latency_us/service_us p99"
awk -v p="$lat" 'BEGIN { exit !(p >= 500000) }' || fail "corrected p99 $lat us hides a 1 s stall"
# The trap must still kill a server that was stopped: stop it again and let it.
kill -STOP "$SRV_PID"
echo "ok: corrected p99 $lat us, uncorrected p99 $svc us"
