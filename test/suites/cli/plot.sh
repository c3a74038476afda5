# test/tools/intervals.sh plots any cli_flood -i --json run: a real 3 s run at 1 s
# intervals gives well-formed SVG (xmllint) with exactly one series per percentile,
# p50, p99 and p99.9, in that order, each a point per interval record at that
# record's latency; -w gives one series per percentile and worker; a file without
# interval records is refused, exit 1, with the reason.
. "$(dirname "$0")/../../lib/lib.sh"
need_tool jq jq
need_tool xmllint libxml2-utils
PLOT=$(dirname "$0")/../../tools/intervals.sh
start_server
flood -d 3 -c 10 -R 1000 -i 1 >/dev/null
expect_eq "-i run: exit status" "$CLI_RC" 0
sh "$PLOT" -t "a test run" "$T/report.json" >"$T/chart.svg" 2>"$T/plot.err" || fail "intervals.sh: $? $(cat "$T/plot.err")"
xmllint --noout "$T/chart.svg" 2>"$T/xml.err" || fail "not well-formed SVG: $(cat "$T/xml.err")"
records=$(jq -s 'map(select(.type == "interval")) | length' "$T/report.json")
[ "$records" -ge 3 ] || fail "$records interval records in a 3 s run at 1 s"
series() { xmllint --xpath '//*[local-name()="g" and @class="series"]/@data-series' "$1" | tr -s ' ' '\n' | sed -n 's/data-series="\(.*\)"/\1/p' | tr '\n' ' '; }
expect_eq "series" "$(series "$T/chart.svg")" "p50 p99 p99.9 "
for s in p50 p99 p99.9; do
    n=$(xmllint --xpath "count(//*[local-name()=\"g\" and @data-series=\"$s\"]/*[local-name()=\"circle\"])" "$T/chart.svg")
    expect_eq "$s: points (one per interval record)" "$n" "$records"
done
grep -q '>a test run</text>' "$T/chart.svg" || fail "no title"
# The points are the records' figures: on the log scale, each interval's p99.9 is
# drawn no lower (a smaller y) than its p50.
cy() { xmllint --xpath "//*[local-name()=\"g\" and @data-series=\"$1\"]/*[local-name()=\"circle\"][$2]/@cy" "$T/chart.svg" | sed 's/.*="\(.*\)"/\1/'; }
for i in $(seq "$records"); do
    awk -v a="$(cy p50 $i)" -v b="$(cy p99.9 $i)" 'BEGIN { exit !(b <= a) }' || fail "interval $i: p99.9 drawn below p50"
done
"$CLI" -p "$PORT" -d 2 -c 10 -R 1000 -i 1 -w 2 --json >"$T/w.jsonl" 2>"$T/cli.err" || fail "-w 2 run: $?"
sh "$PLOT" "$T/w.jsonl" >"$T/w.svg" || fail "intervals.sh of a -w run: $?"
xmllint --noout "$T/w.svg" || fail "-w chart is not well-formed"
expect_eq "-w 2 series" "$(series "$T/w.svg" | tr " " "\n" | sort | tr "\n" " ")" "p50/w0 p50/w1 p99.9/w0 p99.9/w1 p99/w0 p99/w1 "
flood -n 10 -c 2 >/dev/null
sh "$PLOT" "$T/report.json" >"$T/none.svg" 2>"$T/plot.err"
expect_eq "a run without -i: exit status" "$?" 1
grep -q "intervals.sh: .*report.json: no interval records (run cli_flood with -i and --json)" "$T/plot.err" ||
    fail "no reason given: $(cat "$T/plot.err")"
echo "ok: $records intervals plotted, one series per percentile"
