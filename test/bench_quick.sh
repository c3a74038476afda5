# make bench QUICK=1 end to end: the JSON parses, every strategy appears in every
# workload, and each SVG is well-formed XML with one series per strategy.
. "$(dirname "$0")/lib.sh"
need_tool jq jq
need_tool xmllint libxml2-utils
load_lock
servers=$(sed -n 's/^PROGS :=//p' "$SRC/Makefile" | tr ' ' '\n' | grep '^srv_' | sort | tr '\n' ' ')
BIN=$BIN_DIR sh "$SRC/test/bench.sh" -q -o "$T/results" >"$T/bench.log" 2>&1 || { cat "$T/bench.log"; fail "bench.sh exit status"; }
J=$T/results/bench.json
jq -e . "$J" >/dev/null || fail "bench.json does not parse"
for wl in oneshot held; do
    got=$(jq -r --arg wl "$wl" '[.points[] | select(.workload == $wl) | .server] | unique | join(" ")' "$J")
    expect_eq "servers in $wl" "$got " "$servers"
    jq -e --arg wl "$wl" '[.points[] | select(.workload == $wl and .failed == false)] | length > 0' "$J" >/dev/null ||
        fail "no successful $wl point"
    for m in p99 throughput memory; do
        svg=$T/results/$wl-$m.svg
        xmllint --noout "$svg" || fail "$svg is not well-formed XML"
        n=$(grep -c '<g class="series"' "$svg")
        expect_eq "series in $wl-$m.svg" "$n" "$(echo $servers | wc -w)"
    done
done
jq -e '.machine.cores > 0 and (.machine.cpu | length) > 0' "$J" >/dev/null || fail "machine missing"
grep -q '^| srv_epoll | 100 |' "$T/results/bench.md" || fail "bench.md has no srv_epoll row"
echo "ok: $(jq '.points | length' "$J") points in $(jq .elapsed_s "$J") s"
