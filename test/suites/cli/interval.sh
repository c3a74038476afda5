# cli_flood -i: one record per interval, each for its interval alone. Checked: the
# number of records (duration / interval, plus at most the rest), their form (text
# lines; JSON Lines that jq reads, marked "type":"interval", the report last),
# that their counts add up to the report's exactly, that a paced run's full
# intervals hold about rate x interval requests, -w (each worker's records, marked),
# --blocking, and --merge of a JSON Lines file = --merge of its last line.
. "$(dirname "$0")/../../lib/lib.sh"
need_tool jq jq
start_server

# Text, held closed loop: 2 s at 1 s intervals.
"$CLI" -p "$PORT" -d 2 -c 10 -i 1 >"$T/text" 2>"$T/err" || fail "text run: exit status $?: $(cat "$T/err")"
cat "$T/text"
lines=$(grep -c '^interval ' "$T/text")
[ "$lines" -ge 2 ] && [ "$lines" -le 3 ] || fail "text: $lines interval lines for -d 2 -i 1, want 2 or 3"
bad=$(grep '^interval ' "$T/text" | grep -Ev '^interval +[0-9]+\.[0-9][0-9][0-9] s  completed [0-9]+  failed [0-9]+  rate [0-9]+/s  p50 [0-9.]+  p99 [0-9.]+  max [0-9.]+ us$')
[ -z "$bad" ] || fail "text: malformed interval line: $bad"
sum=$(awk '/^interval / { n += $5 } END { print n + 0 }' "$T/text")
expect_eq "text: completed summed over the intervals" "$sum" \
    "$(sed -n 's/^  requests *\([0-9]*\) succeeded.*/\1/p' "$T/text")"
awk '/^interval / { if ($2 + 0 < t) exit 1; t = $2 + 0 }' "$T/text" || fail "text: interval times go back"
# The first full second of a closed loop on 10 connections does requests, and its
# figures are in order: 0 < p50 <= p99 <= max.
awk '/^interval / && NR == 1 { exit !($5 > 0 && $11 > 0 && $11 <= $13 && $13 <= $15) }' "$T/text" ||
    fail "text: first interval has no requests, or p50 <= p99 <= max fails: $(head -1 "$T/text")"

# JSON Lines, paced: 3 s at 1000 requests/s.
"$CLI" -p "$PORT" -d 3 -c 10 -R 1000 -i 1 --json >"$T/paced.jsonl" 2>"$T/err" ||
    fail "paced run: exit status $?: $(cat "$T/err")"
grep interval "$T/paced.jsonl"
n=0
while IFS= read -r line; do
    echo "$line" | jq -e . >/dev/null 2>&1 || fail "paced: line $((n + 1)) is not JSON: $line"
    n=$((n + 1))
done <"$T/paced.jsonl"
tail -1 "$T/paced.jsonl" >"$T/last.json"
jq -e 'has("type") | not' "$T/last.json" >/dev/null || fail "paced: the last line is not the report"
records=$(jq -s '.[:-1] | map(select(.type == "interval")) | length' "$T/paced.jsonl")
expect_eq "paced: every line but the last is an interval" "$records" $((n - 1))
[ "$records" -ge 3 ] && [ "$records" -le 4 ] || fail "paced: $records interval records for -d 3 -i 1, want 3 or 4"
expect_eq "paced: completed summed over the intervals" \
    "$(jq -s '.[:-1] | map(.completed) | add' "$T/paced.jsonl")" "$(jq .succeeded "$T/last.json")"
expect_eq "paced: failed summed over the intervals" \
    "$(jq -s '.[:-1] | map(.failed) | add' "$T/paced.jsonl")" "$(jq .failed "$T/last.json")"
# Intervals 2 and 3 lie wholly in the paced window: about 1000 requests each.
# (Wide bounds for a busy machine; cumulative counts or a wrong interval give 2000+.)
jq -s -e '.[1:3] | all(.completed >= 700 and .completed <= 1300 and .latency_us.p50 <= .latency_us.p99
    and .latency_us.p99 <= .latency_us.p999 and .latency_us.p999 <= .latency_us.max and .interval_s > 0.8 and .interval_s < 1.2)' \
    "$T/paced.jsonl" >/dev/null || fail "paced: intervals 2 and 3 do not hold ~1000 requests a second each"

# --merge reads a JSON Lines file by its last line.
"$CLI" --merge --json "$T/paced.jsonl" >"$T/m1" || fail "merge of JSON Lines: exit status $?"
"$CLI" --merge --json "$T/last.json" >"$T/m2" || fail "merge of the last line: exit status $?"
cmp -s "$T/m1" "$T/m2" || fail "merge of a JSON Lines file differs from merge of its last line"
"$CLI" --merge --json "$T/paced.jsonl" "$T/last.json" >"$T/m3" || fail "merge of both: exit status $?"
expect_eq "merge of both: succeeded" "$(jq .succeeded "$T/m3")" $(( $(jq .succeeded "$T/last.json") * 2 ))

# -w 2: each worker's records, marked, add up to the merged report.
"$CLI" -p "$PORT" -d 2 -c 10 -w 2 -i 1 --json >"$T/w.jsonl" 2>"$T/err" || fail "-w run: exit status $?: $(cat "$T/err")"
grep interval "$T/w.jsonl"
tail -1 "$T/w.jsonl" >"$T/wlast.json"
expect_eq "-w: report merges 2" "$(jq .reports "$T/wlast.json")" 2
for w in 0 1; do
    k=$(jq -s "map(select(.type == \"interval\" and .worker == $w)) | length" "$T/w.jsonl")
    [ "$k" -ge 2 ] && [ "$k" -le 3 ] || fail "-w: worker $w wrote $k records for -d 2 -i 1, want 2 or 3"
done
expect_eq "-w: completed summed over both workers' intervals" \
    "$(jq -s 'map(select(.type == "interval") | .completed) | add' "$T/w.jsonl")" "$(jq .succeeded "$T/wlast.json")"

# --blocking and one-shot: the parent's records add up too.
for mode in "--blocking 4 -n 20000" "-n 20000 -c 100"; do
    "$CLI" -p "$PORT" $mode -i 1 --json >"$T/o.jsonl" 2>"$T/err" || fail "$mode: exit status $?: $(cat "$T/err")"
    tail -1 "$T/o.jsonl" >"$T/olast.json"
    expect_eq "$mode: completed summed over the intervals" \
        "$(jq -s '.[:-1] | map(.completed) | add' "$T/o.jsonl")" "$(jq .succeeded "$T/olast.json")"
    expect_eq "$mode: succeeded" "$(jq .succeeded "$T/olast.json")" 20000
done

"$CLI" --merge -i 1 "$T/last.json" >/dev/null 2>"$T/err"; rc=$?
expect_eq "-i with --merge exit status" "$rc" 2
echo ok
