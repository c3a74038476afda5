# The failure causes that need the client's own limits, each produced on purpose
# and counted alone (no_ports is produced in cli_flood.preflight_warnings):
#  - no_descriptors: 20 inherited descriptors under ulimit -n 64 leave 40 for 50
#    connections at once; the requests that find none fail with that cause;
#  - other: --blocking where RLIMIT_NPROC lets no worker start;
#  - --blocking 2 where it lets one start: a warning, and that worker does all.
. "$(dirname "$0")/../../lib/lib.sh"
need_tool jq jq
start_server
only() {  # only CAUSE WHAT: the report's failures are all CAUSE
    expect_eq "$2: failures other than $1" \
        "$(jq "[.failures | to_entries[] | select(.key != \"$1\") | .value] | add" "$T/report.json")" 0
}
bash -c 'ulimit -n 64 && for fd in $(seq 10 29); do eval "exec $fd</dev/null"; done
         exec "$0" "$@"' "$CLI" -p "$PORT" -c 50 -n 200 -t 10 --json >"$T/report.json" 2>"$T/cli.err"
expect_eq "exit status out of descriptors" "$?" 1
ok=$(jq .succeeded "$T/report.json") nofd=$(jq .failures.no_descriptors "$T/report.json")
[ "$ok" -gt 0 ] && [ "$nofd" -gt 0 ] || fail "succeeded $ok, no_descriptors $nofd: want both above 0"
expect_eq "succeeded + no_descriptors" $((ok + nofd)) 200
only no_descriptors "out of descriptors"

# RLIMIT_NPROC counts the user's processes: one of nobody's runs already. Not
# under the sanitizers: LeakSanitizer's own tracer task counts against the limit.
if [ -n "${C10K_SANITIZE:-}" ]; then
    stop_server || fail "server exit status $?"
    expect_eq "accepted: the successes of the run" "$(stat_num accepted)" "$ok"
    echo "ok: no_descriptors $nofd of 200 (RLIMIT_NPROC part not run under the sanitizers)"
    exit 0
fi
as_nobody_cli() { prlimit --nproc="$1" setpriv --reuid=nobody --regid=nogroup --clear-groups "$CLI" "${@:2}"; }
[ "$(id -u)" = 0 ] || skip "needs root to run cli_flood as nobody"
need_tool setpriv util-linux
need_tool prlimit util-linux
[ "$(pgrep -c -u nobody)" = 0 ] || skip "nobody already runs processes, which RLIMIT_NPROC would count"
setpriv --reuid=nobody --regid=nogroup --clear-groups sleep 30 &
SLEEPER=$!
as_nobody_cli 2 -p "$PORT" --blocking 1 -n 50 -t 10 --json >"$T/report.json" 2>"$T/cli.err"
expect_eq "exit status when no worker can start" "$?" 1
expect_eq "other: requests no worker could take" "$(jq .failures.other "$T/report.json")" 50
only other "no worker"
grep -q "cli_flood: fork (running with 0 workers; raise ulimit -u for more): Resource temporarily unavailable" "$T/cli.err" ||
    fail "fork warning: $(cat "$T/cli.err")"
as_nobody_cli 3 -p "$PORT" --blocking 2 -n 50 -t 10 --json >"$T/report.json" 2>"$T/cli.err"
expect_eq "exit status with one worker of two" "$?" 0
expect_eq "succeeded with one worker of two" "$(jq .succeeded "$T/report.json")" 50
grep -q "cli_flood: fork (running with 1 workers; raise ulimit -u for more)" "$T/cli.err" ||
    fail "fork warning: $(cat "$T/cli.err")"
kill "$SLEEPER"; wait "$SLEEPER" 2>/dev/null
stop_server || fail "server exit status $?"
expect_eq "accepted: the successes of the three runs" "$(stat_num accepted)" $((ok + 50))
echo "ok: no_descriptors $nofd of 200"
