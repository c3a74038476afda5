# cli_flood --hgrm in every mode and after --merge: the file is HdrHistogram's
# percentile distribution (check_hgrm, test/lib/hgrm_lib.sh) of the run's own report.
. "$(dirname "$0")/../../lib/lib.sh"
. "$(dirname "$0")/../../lib/hgrm_lib.sh"
need_tool jq jq
start_server
# run NAME ARGS...: a run with --json and --hgrm, both checked.
run() {
    local name=$1
    shift
    "$CLI" -p "$PORT" --json --hgrm "$T/$name.hgrm" "$@" >"$T/$name.json" 2>"$T/$name.err" ||
        fail "$name: exit status $?: $(cat "$T/$name.err")"
    expect_eq "$name failed" "$(jq -r .failed "$T/$name.json")" 0
    check_hgrm "$T/$name.hgrm" "$T/$name.json" "$name"
}
run oneshot -n 3000 -c 50
run held -d 2 -c 10
run paced -d 2 -c 10 -R 2000
run blocking --blocking 4 -n 2000
run workers -d 2 -c 10 -w 2
# Merged (reports of one kind: one-shot, event loop and blocking): the histogram
# of the merged report, whose count is the sum.
"$CLI" --merge --json --hgrm "$T/merged.hgrm" "$T/oneshot.json" "$T/blocking.json" \
    >"$T/merged.json" || fail "merge exit status $?"
expect_eq "merged count" "$(jq -r .succeeded "$T/merged.json")" \
    "$(jq -s 'map(.succeeded) | add' "$T/oneshot.json" "$T/blocking.json")"
check_hgrm "$T/merged.hgrm" "$T/merged.json" merged
# A path that cannot be written fails before the run, as a usage error.
"$CLI" -p "$PORT" -n 10 --hgrm "$T/no/such/dir/x.hgrm" >"$T/o" 2>"$T/e"; rc=$?
expect_eq "unwritable --hgrm exit status" "$rc" 2
grep -q "hgrm $T/no/such/dir/x.hgrm: cannot write the histogram there: No such file" "$T/e" ||
    fail "unwritable --hgrm message: $(cat "$T/e")"
[ -s "$T/o" ] && fail "unwritable --hgrm: the run went ahead: $(cat "$T/o")"
echo ok
