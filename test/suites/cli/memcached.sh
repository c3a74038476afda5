# cli_flood --send against memcached: "version" framed by --until '\r\n', a get
# framed by --until 'END\r\n'; exact counts in one-shot, held -R and --blocking
# runs; a reply --until never sees within -t is a read_timeout and nothing else.
. "$(dirname "$0")/../../lib/real.sh"
need_tool jq jq
need_tool memcached memcached
start_real memcached -l 127.0.0.1 -p @PORT@ -U 0 -u "$(id -un)"
m() { timeout 30 "$CLI" -p "$PORT" --json -t 5 "$@" >"$T/r.json" 2>"$T/cli.err"; }
ver=(--send 'version\r\n' --until '\r\n')

m "${ver[@]}" -n 2000 -c 20 -r 100; exact "version one-shot" "$T/r.json" $? 2000
m "${ver[@]}" -d 1 -c 10 -R 1000; exact "version held -R" "$T/r.json" $? 1000
m "${ver[@]}" --blocking 2 -n 200 -r 50; exact "version --blocking" "$T/r.json" $? 200
m --send 'get nothing\r\n' --until 'END\r\n' -n 500 -c 5 -r 100; exact "get until END" "$T/r.json" $? 500
m --send 'version\r\n' --until 'never' -n 4 -c 2 -r 2 -t 1; rc=$?
expect_eq "--until never seen: exit status" $rc 1
causes_only "--until never seen" "$T/r.json" read_timeout=4
stop_server
