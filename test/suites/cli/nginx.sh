# cli_flood --http against nginx (one worker, return 200 "ok\n"): exact counts in
# every mode (one-shot, held closed and open loop, --blocking, -w with -s, -i,
# --hgrm, --merge); a 404 is http_status and nothing else; nginx's keepalive_requests
# closing held connections is counted as drops (closed_early), each connection's
# requests up to the limit succeeding.
. "$(dirname "$0")/../../lib/real.sh"
need_tool jq jq
nginx_conf 'keepalive_requests 1000000;
        location / { return 200 "ok\n"; }
        location /missing { return 404; }
        location /limited { keepalive_requests 10; return 200 "ok\n"; }'
start_nginx
h() { timeout 30 "$CLI" -p "$PORT" --json -t 5 "$@" >"$T/r.json" 2>"$T/cli.err"; }

h --http / -n 2000 -c 20 -r 100; exact "one-shot" "$T/r.json" $? 2000
expect_eq "one-shot: status classes" "$(jq -c .http_classes "$T/r.json")" '{"2xx":2000,"3xx":0,"4xx":0,"5xx":0}'
expect_eq "one-shot: protocol" "$(jq -r .protocol "$T/r.json")" http
h --http / --blocking 2 -n 200 -r 50; exact "--blocking" "$T/r.json" $? 200
h --http / -H 'Accept: text/plain' -H 'X-Test: 1' -d 1 -c 20 -R 2000; exact "held -R" "$T/r.json" $? 2000
expect_eq "held -R: connections held" "$(jq .connections_held "$T/r.json")" 20
cp "$T/r.json" "$T/a.json"
h --http / -d 1 -c 20; rc=$?
[ $rc = 0 ] || fail "held closed loop: exit status $rc: $(cat "$T/r.json")"
expect_eq "held closed loop: dropped" "$(jq .dropped "$T/r.json")" 0
causes_only "held closed loop" "$T/r.json"
# -w 2 over two sources, with interval records and the histogram.
timeout 30 "$CLI" -p "$PORT" --json --http / -d 2 -c 20 -R 1000 -w 2 -s 127.0.0.1-127.0.0.2 -i 1 \
    --hgrm "$T/w.hgrm" >"$T/w.jsonl" 2>"$T/cli.err"; rc=$?
tail -1 "$T/w.jsonl" >"$T/w.json"
exact "-w 2 -s -i" "$T/w.json" $rc 2000
check_hgrm "$T/w.hgrm" "$T/w.json" "-w 2"
expect_eq "-i: the records' successes add up" \
    "$(grep '"type":"interval"' "$T/w.jsonl" | jq -s 'map(.completed) | add')" 2000
# --merge: held HTTP reports add up; an echo report (nginx answers the timestamp
# line with 400 and a close: mismatch) is refused beside them, naming both.
"$CLI" --merge --json "$T/a.json" "$T/w.json" >"$T/m.json" 2>"$T/e" || fail "merge: $(cat "$T/e")"
expect_eq "merge: protocol" "$(jq -r .protocol "$T/m.json")" http
expect_eq "merge: succeeded" "$(jq .succeeded "$T/m.json")" 4000
h -d 1 -c 2; cp "$T/r.json" "$T/echo.json"
"$CLI" --merge --json "$T/a.json" "$T/echo.json" >"$T/m.json" 2>"$T/e"; rc=$?
expect_eq "merge of http and echo: exit status" $rc 1
grep -q "echo report cannot be merged with http ones" "$T/e" || fail "merge of http and echo: $(cat "$T/e")"

# A 404: http_status, counted as 4xx, the connections carrying on.
h --http /missing -n 100 -c 5 -r 20; rc=$?
expect_eq "404: exit status" $rc 1
expect_eq "404: succeeded" "$(jq .succeeded "$T/r.json")" 0
causes_only "404" "$T/r.json" http_status=100
expect_eq "404: status classes" "$(jq -c .http_classes "$T/r.json")" '{"2xx":0,"3xx":0,"4xx":100,"5xx":0}'
expect_eq "404: connections" "$(jq .connections "$T/r.json")" 5

# keepalive_requests 10: each held connection answers 10, then nginx closes it.
h --http /limited -d 1 -c 10; rc=$?
expect_eq "keepalive_requests: exit status" $rc 1
expect_eq "keepalive_requests: succeeded" "$(jq .succeeded "$T/r.json")" 100
expect_eq "keepalive_requests: dropped" "$(jq .dropped "$T/r.json")" 10
expect_eq "keepalive_requests: drops closed_early ($(cat "$T/r.json"))" \
    "$(jq .connection_failures.dropped.closed_early "$T/r.json")" 10
causes_only "keepalive_requests" "$T/r.json"
grep -q "the server closed 10 held connections (closed_early), most likely at its keep-alive limit" \
    "$T/cli.err" || fail "keepalive_requests: no warning that explains the drops: $(cat "$T/cli.err")"
stop_server
