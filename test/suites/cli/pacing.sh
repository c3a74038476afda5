# cli_flood -R: send lag and batched release.
# - Every request of the window has its send lag: send_lag_histogram.count =
#   succeeded, and the client-bound warning comes exactly when its p99 is over
#   1 ms or a tenth of one connection's interval, with the figure of the report.
# - A client that falls behind (SIGSTOP for 300 ms) reports it: p99 send lag over
#   100 ms, and the warning.
# - A slow server is not the client's lag: with echoes 50 ms late, the latency
#   shows the delay and the send lag does not (the sends owed go as the echo
#   comes back).
# - --batch 10000: the requests leave in batches 10 ms apart, as the server
#   receives them; the latency counts from the release time, so the send lag
#   stays small; the count in the window is the schedule's.
# - --batch without -R, or out of range, is a usage error.
. "$(dirname "$0")/../../lib/lib.sh"
need_tool jq jq
ECHO_SERVER=$SERVER

# warned FILE: whether cli_flood's stderr in FILE has the client-bound warning.
warned() { grep -q "warning: the client could not keep the schedule" "$1"; }
# lag_consistent WHAT C RATE: the warning in $T/cli.err iff the report's p99 says so.
lag_consistent() {
    local what=$1 c=$2 rate=$3 p99 over said
    p99=$(jq .send_lag_us.p99 "$T/r.json")
    over=$(awk -v p="$p99" -v c="$c" -v r="$rate" 'BEGIN { g = 1e6 * c / r / 10; print (p > 1000 || p > g) ? 1 : 0 }')
    if [ "$over" = 1 ]; then
        warned "$T/cli.err" || fail "$what: p99 send lag $p99 us, and no warning"
        said=$(sed -n 's/.*p99 send lag \([0-9.]*\) ms.*/\1/p' "$T/cli.err")
        awk -v a="$said" -v p="$p99" 'BEGIN { d = a - p / 1000; exit !(a != "" && d < 0.002 && d > -0.002) }' ||
            fail "$what: the warning does not give the report's p99 ($p99 us): $(cat "$T/cli.err")"
    else
        ! warned "$T/cli.err" || fail "$what: p99 send lag $p99 us, and yet: $(cat "$T/cli.err")"
    fi
}

start_server
"$CLI" -p "$PORT" -c 10 -d 2 -R 1000 --json >"$T/r.json" 2>"$T/cli.err"
expect_eq "steady: exit status" "$?" 0
expect_eq "steady: succeeded" "$(jq .succeeded "$T/r.json")" 2000
expect_eq "steady: send lag samples" "$(jq .send_lag_histogram.count "$T/r.json")" 2000
lag_consistent steady 10 1000
echo "steady: send lag $(jq -c .send_lag_us "$T/r.json")"

# Stopped for 300 ms of a 2 s window: 15% of the sends are late by up to 300 ms.
"$CLI" -p "$PORT" -c 10 -d 2 -R 1000 --json >"$T/r.json" 2>"$T/cli.err" &
cli=$!
sleep 0.8
kill -STOP $cli
sleep 0.3
kill -CONT $cli
wait $cli
expect_eq "stopped: exit status (late, not lost)" "$?" 0
p99=$(jq '.send_lag_us.p99 | floor' "$T/r.json")
[ "$p99" -gt 100000 ] || fail "stopped 300 ms: p99 send lag $p99 us, want over 100 ms"
warned "$T/cli.err" || fail "stopped 300 ms: no warning: $(cat "$T/cli.err")"
lag_consistent stopped 10 1000
echo "stopped: $(cat "$T/cli.err")"

stop_server INT
# --batch 10000 against a recording echo: the send times are the digits of each line.
SERVER=$BADSRV
start_server "record=$T/rec"
"$CLI" -p "$PORT" -c 10 -d 1 -R 1000 --batch 10000 --json >"$T/r.json" 2>"$T/cli.err"
expect_eq "batch 10000: exit status" "$?" 0
expect_eq "batch 10000: succeeded" "$(jq .succeeded "$T/r.json")" 1000
kill -KILL "$SRV_PID"; wait "$SRV_PID" 2>/dev/null; SRV_PID=
# Gaps between consecutive sends: 9 in 10 inside a batch (microseconds), 1 in 10
# between batches (10 ms); unbatched, every gap would be near 1 ms.
sort -n "$T/rec" | awk 'NR > 1 { g = $1 - prev; if (g < 500000) inb++; else if (g > 5000000) between++ }
    { prev = $1 } END { print inb + 0, between + 0, NR }' >"$T/gaps"
read -r inb between lines <"$T/gaps"
expect_eq "batch 10000: requests the server got" "$lines" 1000
[ "$inb" -ge 800 ] || fail "batch 10000: $inb of 999 gaps between sends under 0.5 ms, want at least 800"
[ "$between" -ge 80 ] || fail "batch 10000: $between gaps over 5 ms, want about 100 (a batch each 10 ms)"
p50=$(jq '.send_lag_us.p50 | floor' "$T/r.json")
[ "$p50" -lt 2500 ] || fail "batch 10000: p50 send lag $p50 us: counted from the unrounded due time?"
echo "batch 10000: $inb gaps within a batch, $between between batches; send lag $(jq -c .send_lag_us "$T/r.json")"

# Echoes 50 ms late (badsrv polls every 10 ms): 20 connections each asked every
# 40 ms, so sends are owed and go as the echo comes.
start_server delay=50
"$CLI" -p "$PORT" -c 20 -d 1 -R 500 -t 5 --json >"$T/r.json" 2>"$T/cli.err"
expect_eq "slow server: exit status" "$?" 0
expect_eq "slow server: succeeded" "$(jq .succeeded "$T/r.json")" 500
lat=$(jq '.latency_us.p50 | floor' "$T/r.json")
lag=$(jq '.send_lag_us.p99 | floor' "$T/r.json")
[ "$lat" -ge 50000 ] || fail "slow server: p50 latency $lat us, want at least 50 ms"
[ "$lag" -lt 5000 ] || fail "slow server: p99 send lag $lag us: the server's delay counted as the client's"
lag_consistent "slow server" 20 500
echo "slow server: p50 latency $lat us, p99 send lag $lag us"
kill -KILL "$SRV_PID"; wait "$SRV_PID" 2>/dev/null; SRV_PID=

"$CLI" -n 10 --batch 500 >/dev/null 2>"$T/err"
expect_eq "--batch without -R: exit status" "$?" 2
grep -q "^cli_flood: --batch paces -R: name a rate$" "$T/err" || fail "--batch without -R: $(head -1 "$T/err")"
"$CLI" -d 1 -R 10 --batch 10001 >/dev/null 2>"$T/err"
expect_eq "--batch 10001: exit status" "$?" 2
grep -q "batch interval is too large: 10001" "$T/err" || fail "--batch 10001: $(head -1 "$T/err")"
echo "ok: send lag counted for every request and warned about exactly when due; batches as the schedule says"
