# make bench QUICK=1 end to end: the JSON parses, every strategy appears in every
# workload, each run has its server CPU (cpu_ns) and kernel memory (kernel_mem_kib),
# the size workload sent requests of its sizes (bytes echoed agree with requests),
# and each SVG is well-formed XML with one series per strategy.
. "$(dirname "$0")/../../lib/lib.sh"
need_tool jq jq
need_tool xmllint libxml2-utils
servers=$(programs server | sort | tr '\n' ' ')
nsrv=$(echo $servers | wc -w)
# One level of connections, not QUICK's two, to keep CI short (a run is a second):
# every workload, table and chart is the same code at one level or five.
C10K_LOCK_HELD=1 QUICK_LEVELS=500 BIN=$BIN_DIR sh "$SRC/test/tools/bench.sh" -q -o "$T/results" >"$T/bench.log" 2>&1 ||
    { cat "$T/bench.log"; fail "bench.sh exit status"; }
J=$T/results/bench.json
jq -e . "$J" >/dev/null || fail "bench.json does not parse"
runs=$(jq '[.points[].runs[]] | length' "$J")
expect_eq "runs" "$runs" $(((3 + 2) * nsrv))
grep -q "^run 1 of $runs, [0-9]*:[0-9][0-9] left: " "$T/bench.log" || fail "no progress line 'run 1 of $runs, M:SS left'"
grep -q "^run $runs of $runs, 0:00 left: " "$T/bench.log" || fail "no last progress line"
for wl in oneshot held closed size; do
    got=$(jq -r --arg wl "$wl" '[.points[] | select(.workload == $wl) | .server] | unique | join(" ")' "$J")
    expect_eq "servers in $wl" "$got " "$servers"
    jq -e --arg wl "$wl" '[.points[] | select(.workload == $wl and .failed == false)] | length > 0' "$J" >/dev/null ||
        fail "no successful $wl point"
done
# Every successful run: CPU in ns and per request within reason, kernel memory
# grown where there are enough sockets for it to show (at 100, as in the size
# workload, the cgroup's baseline can move as much: 0 was seen once in CI).
bad=$(jq -r '.points[].runs[] | select(.failed | not) |
    select((.cpu_ns > 0 and .kernel_mem_kib >= 0 and (.connections < 500 or .kernel_mem_kib > 0)
            and .cpu_us_per_req > 0.5 and .cpu_us_per_req < 5000) | not) |
    "\(.workload) \(.server) \(.connections): cpu_ns \(.cpu_ns) cpu_us_per_req \(.cpu_us_per_req) kernel_mem_kib \(.kernel_mem_kib)"' "$J")
[ -z "$bad" ] || fail "runs without CPU or kernel memory: $bad"
jq -e '(.settings.cpu_method | length) > 0 and (.settings.kernel_mem_method | length) > 0' "$J" >/dev/null ||
    fail "bench.json does not say how CPU and kernel memory were measured"
# A process per connection costs far more than an epoll item: the chart's point.
jq -e '[.points[] | select(.workload == "held" and .connections == 500)] |
    (map(select(.server == "srv_fork"))[0].all_told_kib_per_conn) >
    10 * (map(select(.server == "srv_epoll"))[0].all_told_kib_per_conn)' "$J" >/dev/null ||
    fail "srv_fork's memory per connection is not 10 times srv_epoll's: $(jq -c '[.points[] | select(.workload == "held" and .connections == 500) | {server, all_told_kib_per_conn}]' "$J")"
# The size workload: each server at 64 and 16384 bytes; MiB/s is requests/s times
# the size (a run that ignored -l would echo the same bytes a request at both sizes).
expect_eq "size points" "$(jq -c '[.points[] | select(.workload == "size") | [.server, .request_bytes, .connections]] | sort' "$J")" \
    "$(for s in $servers; do printf '["%s",64,100],["%s",16384,100],' "$s" "$s"; done | sed 's/^/[/; s/,$/]/')"
bad=$(jq -r '.points[] | select(.workload == "size" and (.failed | not)) |
    select((.received_mib_per_s - .requests_per_s * .request_bytes / 1048576 | fabs) > 0.02 * .received_mib_per_s + 0.01) |
    "\(.server) \(.request_bytes): \(.received_mib_per_s) MiB/s at \(.requests_per_s) req/s"' "$J")
[ -z "$bad" ] || fail "MiB/s echoed is not requests/s x size: $bad"
jq -e '[.points[] | select(.workload == "size" and .server == "srv_epoll")] | sort_by(.request_bytes) |
    .[1].received_mib_per_s > 4 * .[0].received_mib_per_s' "$J" >/dev/null ||
    fail "srv_epoll echoed no more MiB/s at 16384 bytes than 4 x at 64: $(jq -c '[.points[] | select(.workload == "size" and .server == "srv_epoll") | {request_bytes, received_mib_per_s}]' "$J")"
for c in closed-throughput held-cpu memory-all-told held-spectrum size-throughput held-p99 oneshot-p99 oneshot-throughput; do
    svg=$T/results/$c.svg
    xmllint --noout "$svg" || fail "$svg is not well-formed XML"
    n=$(grep -c '<g class="series"' "$svg")
    expect_eq "series in $c.svg" "$n" "$nsrv"
    grep -q "\\!\\[$c\\]($c.svg)" "$T/results/README.md" || fail "results/README.md does not show $c.svg"
done
for p in 50% 90% 99% 99.9% 99.99%; do
    grep -q ">$p</text>" "$T/results/held-spectrum.svg" || fail "held-spectrum.svg has no $p tick"
done
jq -e '.machine.cores > 0 and (.machine.cpu | length) > 0' "$J" >/dev/null || fail "machine missing"
grep -q '^| srv_epoll | 500 |' "$T/results/README.md" || fail "results/README.md has no srv_epoll row at 500"
echo "ok: $(jq '.points | length' "$J") points in $(jq .elapsed_s "$J") s"
