# cli_flood's memory does not grow with the request size: at 10,000 held connections
# with requests of 64 KiB (-R 5000 for 2 s: 10,000 requests, 655 MB each way) its
# peak RSS stays under 64 MiB, where a buffer per connection would take 640 MiB;
# every request succeeds and every byte is counted.
. "$(dirname "$0")/../../lib/lib.sh"
need_tool jq jq
if [ ! -x /usr/bin/time ]; then
    [ "${CI:-}" = true ] && fail "/usr/bin/time is missing under CI: test/deps.sh installs time"
    skip "GNU time is not installed (apt-get install time)"
fi
start_server
/usr/bin/time -f %M -o "$T/rss" "$CLI" -p "$PORT" -c 10000 -l 65536 -d 2 -R 5000 --connect-rate 20000 \
    -t 20 --json >"$T/r.json" 2>"$T/cli.err"
expect_eq "exit status" "$?" 0
stop_server INT
expect_eq "connections held" "$(jq .connections_held "$T/r.json")" 10000
expect_eq "succeeded" "$(jq .succeeded "$T/r.json")" 10000
expect_eq "bytes_sent" "$(jq .bytes_sent "$T/r.json")" $((10000 * 65536))
expect_eq "bytes_received" "$(jq .bytes_received "$T/r.json")" $((10000 * 65536))
rss=$(tail -1 "$T/rss")
[ "$rss" -lt 65536 ] || fail "cli_flood's peak RSS was $rss KiB at -c 10000 -l 65536 (bound 65536 KiB)"
echo "ok: 10,000 connections x 64 KiB requests in a client of $rss KiB peak RSS"
