# cli_flood --json is strict JSON in every mode, read by a real parser (jq): one
# object and nothing else, its counts numbers that add up, every cause a number.
# Modes: one-shot, held closed loop, held open loop (-R), -w workers, --blocking,
# --merge, an empty run (nothing listens: every request refused), and -i JSON
# Lines (one object a line).
. "$(dirname "$0")/../../lib/lib.sh"
need_tool jq jq
start_server
# strict FILE WHAT: exactly one JSON value, an object with the report's shape.
strict() {
    jq -e -s 'length == 1' "$1" >/dev/null 2>"$T/jq.err" ||
        fail "$2: not exactly one JSON value: $(cat "$T/jq.err") $(head -c 200 "$1")"
    jq -e '
        type == "object"
        and (.requests | type == "number") and (.succeeded | type == "number")
        and (.failed | type == "number") and .succeeded + .failed == .requests
        and (.failures | type == "object" and ([.[] | type == "number"] | all))
        and ([.failures[]] | add) == .failed
        and (.latency_us | type == "object" and ([.[] | type == "number"] | all))
        and (.target | type == "string") and (.mode | type == "string")
        and (.histogram.count == .succeeded)' "$1" >/dev/null ||
        fail "$2: the report's shape or sums are wrong: $(head -c 400 "$1")"
}
run() {  # run WHAT ARGS...
    local what=$1
    shift
    "$CLI" --json "$@" >"$T/r.json" 2>"$T/cli.err"
    strict "$T/r.json" "$what"
    cp "$T/r.json" "$T/$what.json"
}
run oneshot -p "$PORT" -n 200 -c 20
run held -p "$PORT" -d 1 -c 10
run openloop -p "$PORT" -d 1 -c 10 -R 200
run workers -p "$PORT" -d 1 -c 10 -w 2
run blocking -p "$PORT" --blocking 2 -n 50
run merge --merge "$T/oneshot.json" "$T/blocking.json"
expect_eq "merged succeeded" "$(jq .succeeded "$T/merge.json")" 250
stop_server || fail "server exit status $?"
# Nothing listens on the port now.
"$CLI" --json -p "$PORT" -n 10 -c 5 -t 2 >"$T/empty.json" 2>"$T/cli.err"
strict "$T/empty.json" "empty run"
expect_eq "empty run: refused" "$(jq .failures.refused "$T/empty.json")" 10
expect_eq "empty run: succeeded" "$(jq .succeeded "$T/empty.json")" 0
start_server
"$CLI" --json -p "$PORT" -d 2 -c 5 -R 100 -i 1 >"$T/lines.json" 2>"$T/cli.err"
n=0
while IFS= read -r line; do
    n=$((n + 1))
    printf '%s\n' "$line" | jq -e 'type == "object"' >/dev/null || fail "-i line $n is not a JSON object: $line"
done <"$T/lines.json"
[ "$n" -ge 3 ] || fail "-i 1 for 2 s gave $n lines"
tail -1 "$T/lines.json" >"$T/last.json"
strict "$T/last.json" "-i's last line"
stop_server || fail "server exit status $?"
echo "ok: 8 modes, $n JSON Lines"
