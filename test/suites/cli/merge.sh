# Two JSON reports merged: counts add up, the histogram holds both sets of samples,
# percentiles lie between the two runs', and the text report reads the same files.
# Reports of two servers merge too; reports of different kinds (one-shot, held)
# and missing files are refused with the reason.
. "$(dirname "$0")/../../lib/lib.sh"
start_server
"$CLI" -p "$PORT" --json -d 2 -c 10 >"$T/a.json" || fail "run a: $?"
"$CLI" -p "$PORT" --json -d 1 -c 50 >"$T/b.json" || fail "run b: $?"
"$CLI" --merge --json "$T/a.json" "$T/b.json" >"$T/m.json" 2>"$T/e"; rc=$?
cat "$T/m.json"
expect_eq "merge exit status" "$rc" 0
sum() { echo $(( $(json_num "$1" "$T/a.json") + $(json_num "$1" "$T/b.json") )); }
for key in succeeded requests connections concurrency; do
    expect_eq "merged $key" "$(json_num "$key" "$T/m.json")" "$(sum "$key")"
done
hcount() { grep -o '"histogram":{[^}]*' "$1" | grep -o '"count":[0-9]*' | cut -d: -f2; }
expect_eq "merged histogram count" "$(hcount "$T/m.json")" "$(( $(hcount "$T/a.json") + $(hcount "$T/b.json") ))"
expect_eq "merged reports" "$(json_num reports "$T/m.json")" 2
p() { grep -o '"latency_us":{[^}]*' "$2" | grep -o "\"$1\":[0-9.]*" | cut -d: -f2; }
for q in p50 p99; do
    awk -v a="$(p $q "$T/a.json")" -v b="$(p $q "$T/b.json")" -v m="$(p $q "$T/m.json")" \
        'BEGIN { lo = a < b ? a : b; hi = a < b ? b : a; exit !(m >= lo && m <= hi) }' ||
        fail "merged $q $(p $q "$T/m.json") not between $(p $q "$T/a.json") and $(p $q "$T/b.json")"
done
awk -v a="$(p min "$T/a.json")" -v b="$(p min "$T/b.json")" -v m="$(p min "$T/m.json")" \
    'BEGIN { exit !(m == (a < b ? a : b)) }' || fail "merged min is not the smaller min"
# Merging a merge with nothing else changes nothing.
"$CLI" --merge --json "$T/m.json" >"$T/m2.json" || fail "re-merge exit status $?"
cmp -s "$T/m.json" "$T/m2.json" || fail "a merged report read back differs"
"$CLI" --merge "$T/a.json" "$T/b.json" >"$T/m.txt" || fail "text merge exit status $?"
grep -q "2 reports merged" "$T/m.txt" || fail "text merge: $(cat "$T/m.txt")"
echo 'not json' >"$T/bad.json"
"$CLI" --merge "$T/bad.json" 2>"$T/e"; rc=$?
expect_eq "merge of a bad file exit status" "$rc" 1
grep -q "bad.json: not a cli_flood --json report" "$T/e" || fail "bad file message: $(cat "$T/e")"
# Reports of two servers merge: counts add up, and the target says there were more.
need_tool jq jq
SERVER2_OUT=$T/srv2.out
"$SERVER" 0 >"$SERVER2_OUT" 2>&1 &
SRV2=$!
wait_for 5 "a second server's start line" grep -q listening "$SERVER2_OUT"
port2=$(start_line_port "$SERVER2_OUT")
"$CLI" -p "$PORT" --json -n 100 -c 10 >"$T/s1.json" || fail "run on the first server: $?"
"$CLI" -p "$port2" --json -n 300 -c 10 >"$T/s2.json" || fail "run on the second server: $?"
kill "$SRV2"; wait "$SRV2" 2>/dev/null
"$CLI" --merge --json "$T/s1.json" "$T/s2.json" >"$T/ms.json" || fail "merge of two servers' reports: $?"
expect_eq "merged succeeded of two servers" "$(jq .succeeded "$T/ms.json")" 400
expect_eq "merged target of two servers" "$(jq -r .target "$T/ms.json")" "127.0.0.1:$PORT..."
# Reports of different kinds do not add up: refused, naming both, exit 1.
"$CLI" -p "$PORT" --json -d 1 -c 5 >"$T/held.json" || fail "held run: $?"
"$CLI" --merge "$T/s1.json" "$T/held.json" >"$T/o" 2>"$T/e"; rc=$?
expect_eq "exit status merging one-shot and held reports" "$rc" 1
grep -qF "cli_flood: $T/held.json: a held closed-loop report cannot be merged with one-shot ones ($T/s1.json): merge runs of one kind" "$T/e" ||
    fail "mixed kinds message: $(cat "$T/e")"
[ -s "$T/o" ] && fail "a refused merge printed a report: $(cat "$T/o")"
# A file that is not there: its name and the reason, exit 1, no report.
"$CLI" --merge "$T/s1.json" "$T/missing.json" >"$T/o" 2>"$T/e"; rc=$?
expect_eq "exit status merging a missing file" "$rc" 1
grep -qF "cli_flood: $T/missing.json: No such file or directory" "$T/e" || fail "missing file message: $(cat "$T/e")"
[ -s "$T/o" ] && fail "a merge with a missing file printed a report: $(cat "$T/o")"
echo ok
