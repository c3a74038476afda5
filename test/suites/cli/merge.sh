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

# Every count a report carries, non-zero on both sides, survives a merge. Each side
# (a, b) is itself a merge of real runs, one cause or more each, of different sizes:
# one-shot runs (successes; refused past BADSRV_ACCEPT; connect_timeout and
# read_timeout against noaccept; reset, closed_early, mismatch against close, eof,
# garbage; no_descriptors under ulimit -n; interrupted by SIGTERM) and open-loop
# held runs (connect failures refused past BADSRV_ACCEPT; drops by FIN and RST
# against badsrv drop; service and send lag). Merged: each sum is a + b, each
# duration the longer, each histogram's count and sum a + b, its min and max the
# smaller and the larger. (no_ports and other need a namespace and RLIMIT_NPROC:
# unit_report merges them.)
stop_server || fail "server exit status $?"
BADS=
trap 'rc=$?; [ -n "$BADS" ] && { kill -KILL $BADS; wait $BADS; } 2>/dev/null; (exit $rc); cleanup' EXIT
bad() {  # bad NAME ACCEPT MODE [ARG...]: a badsrv of its own (ACCEPT: BADSRV_ACCEPT or ""); sets BAD_PORT
    local name=$1 acc=$2 mode=$3
    shift 3
    : >"$T/$name.out"
    BADSRV_ACCEPT=$acc setsid "$BADSRV" "$mode" 0 "$@" >"$T/$name.out" 2>&1 &
    BADS="$BADS $!"
    BAD_PORT=$(wait_start_line "$T/$name.out" $!) || fail "badsrv $mode did not start: $(cat "$T/$name.out")"
}
side() {  # side NAME N: the runs of one side, N requests each: NAME.json (one-shot), NAME.held.json
    local s=$1 n=$2 runs= k=0
    run() { k=$((k + 1)); "$CLI" --json "$@" >"$T/$s.$k.json" 2>>"$T/$s.err"; runs="$runs $T/$s.$k.json"; }
    start_server
    run -p "$PORT" -n $n -c 5
    # 20 descriptors inherited under ulimit -n 64 leave 40 for 50 at once
    k=$((k + 1)); runs="$runs $T/$s.$k.json"
    bash -c 'ulimit -n 64 && for fd in $(seq 10 29); do eval "exec $fd</dev/null"; done
        exec "$0" "$@"' "$CLI" -p "$PORT" -c 50 -n $((n * 10)) -t 10 --json >"$T/$s.$k.json" 2>>"$T/$s.err"
    stop_server >/dev/null
    bad $s.acc 3 delay=0; run -p "$BAD_PORT" -n $n -c 1 -t 2
    bad $s.noacc "" noaccept; run -p "$BAD_PORT" -n $n -c $n -t 1
    for mode in close eof garbage; do bad $s.$mode "" $mode; run -p "$BAD_PORT" -n $n -c 5 -t 2; done
    bad $s.silent "" silent
    k=$((k + 1)); runs="$runs $T/$s.$k.json"
    "$CLI" -p "$BAD_PORT" -n $n -c 5 -t 20 --json >"$T/$s.$k.json" 2>>"$T/$s.err" &
    local cli=$!
    wait_for 5 "$s: 5 connections open to badsrv silent" \
        eval "[ \$(ss -Htn state established '( dport = :$BAD_PORT )' | wc -l) -ge 5 ]"
    kill -TERM $cli; wait $cli
    # Exit status 1: the merged runs lost requests, as each did.
    "$CLI" --merge --json $runs >"$T/$s.json" 2>>"$T/$s.err"
    expect_eq "merge of side $s's one-shot runs: exit status" "$?" 1
    runs=
    bad $s.hacc 4 delay=0; run -p "$BAD_PORT" -c 10 -d 1 -R $((n * 5)) -t 2 --connect-rate 50
    bad $s.drop "" drop 2 200; run -p "$BAD_PORT" -c 4 -d 1 -R $((n * 5)) -t 2  # each 2nd: FIN, RST
    "$CLI" --merge --json $runs >"$T/$s.held.json" 2>>"$T/$s.err"
    expect_eq "merge of side $s's held runs: exit status" "$?" 1
}
side a 20
side b 30
# check_merge A B M: prints each way M is not A merged with B, and the counts not
# above 0 on both sides, "name: zero" a line.
check_merge() {
    jq -n -r --slurpfile a "$1" --slurpfile b "$2" --slurpfile m "$3" '
        $a[0] as $a | $b[0] as $b | $m[0] as $m |
        [$a | paths(numbers)] | map(select(.[0] | test("^(latency|service|send_lag)_us$|_per_s$|^per_connection$|^request_bytes$") | not))
        | map(select(.[-2] != "buckets" and .[-3] != "buckets"))[] as $p |
        ($a | getpath($p)) as $x | ($b | getpath($p)) as $y | ($m | getpath($p)) as $z |
        ($p | map(tostring) | join(".")) as $name |
        (if ($p[-1] | tostring | test("_s$")) then ([$x, $y] | max)
         elif $p[-1] == "min" then ([$x, $y] | min)
         elif $p[-1] == "max" then ([$x, $y] | max)
         else $x + $y end) as $want |
        (if $z != $want then "\($name): merged \($z), want \($want) (\($x) and \($y))" else empty end),
        (if ($x == 0 or $y == 0) and ($p[-1] | tostring | test("_s$") | not) then "\($name): zero" else empty end)'
}
for kind in "" .held; do
    "$CLI" --merge --json "$T/a$kind.json" "$T/b$kind.json" >"$T/ab$kind.json" 2>"$T/e"
    expect_eq "merge of a$kind and b$kind: exit status" "$?" 1
    check_merge "$T/a$kind.json" "$T/b$kind.json" "$T/ab$kind.json" >"$T/check$kind"
    grep -v ': zero$' "$T/check$kind" >"$T/wrong" && fail "merged${kind:- one-shot} reports: $(cat "$T/wrong")"
    zero=$(sed -n 's/: zero$//p' "$T/check$kind" | tr '\n' ' ')
    echo "merged${kind:- one-shot}: every figure a + b; zero on a side: $zero"
    # What may be zero on a side: the causes its runs do not produce. Every other
    # count must be non-zero on both, or the check above proves nothing about it.
    may='^failures\.(no_ports|other)$|^(connect_failed|rate)$'
    [ -n "$kind" ] && may='^failures\.(connect_timeout|read_timeout|mismatch|no_ports|no_descriptors|other|interrupted)$|^connection_failures\.connect\.[a-z_]*$|^connection_failures\.dropped\.[a-z_]*$'
    for z in $zero; do
        case $z in connection_failures.connect.refused | connection_failures.dropped.reset | connection_failures.dropped.closed_early) ;;
        *) echo "$z" | grep -Eq "$may" && continue ;;
        esac
        fail "merged${kind:- one-shot}: $z is zero on a side: the check is not exercised"
    done
done
echo ok
