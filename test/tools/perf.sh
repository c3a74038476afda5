#!/bin/sh
# perf.sh: srv_epoll against the reference event loop (libuv's uv_echo) and the
# loopback round-trip floor (sockperf), as ratios of interleaved runs: A B A B ...
# Server on CPU 0, client on CPU 1. Prints a table; medians of -n pairs.
# -s compares another server (srv_uring, say) with uv_echo instead of srv_epoll.
# -b DIR compares with DIR/server instead of uv_echo: the A/B of a change (build
# the old commit into DIR first).
#
#   test/tools/perf.sh [-n pairs] [-d seconds] [-o file] [-s server] [-b dir]
set -u
cd "$(dirname "$0")/../.." || exit 1
PAIRS=5 DUR=10 OUT= SERVER=srv_epoll BASE=
while getopts "n:d:o:s:b:" opt; do
    case $opt in
    n) PAIRS=$OPTARG ;;
    d) DUR=$OPTARG ;;
    o) OUT=$OPTARG ;;
    s) SERVER=$OPTARG ;;
    b) BASE=$OPTARG ;;
    *) echo "usage: test/tools/perf.sh [-n pairs] [-d seconds] [-o file] [-s server] [-b dir]" >&2; exit 2 ;;
    esac
done
OTHER=uv_echo
if [ -n "$BASE" ]; then
    OTHER=base
    [ -x "$BASE/$SERVER" ] || { echo "perf: $BASE/$SERVER missing: build the baseline there" >&2; exit 1; }
fi
for p in srv_epoll "$SERVER" cli_flood; do [ -x "./$p" ] || { echo "perf: ./$p missing: run make" >&2; exit 1; }; done
for tool in jq taskset strace; do
    command -v $tool >/dev/null || { echo "perf: $tool is needed: apt-get install $tool" >&2; exit 1; }
done
UV=${UV_ECHO:-/tmp/c10k-uv_echo}
if [ "$OTHER" = uv_echo ] && [ ! -x "$UV" ]; then
    cc -O2 -o "$UV" ../shared/anchors/uv_echo.c -luv 2>/dev/null ||
        { echo "perf: cannot build the libuv anchor: apt-get install libuv1-dev, and ../shared/anchors/uv_echo.c must exist" >&2; exit 1; }
fi
T=$(mktemp -d)
SRV=
trap '[ -n "$SRV" ] && kill -KILL $SRV 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
HZ=$(getconf CLK_TCK)
point=0

# CPU seconds of every child this shell has reaped so far: the second line of the
# times builtin, which must run in this shell, not in a $(...) subshell.
child_cpu() {
    times >"$T/times"
    tail -1 "$T/times" | awk '{ gsub(/[ms]/, " "); split($0, f, " "); print f[1] * 60 + f[2] + f[3] * 60 + f[4] }'
}
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "nan") }'; }

# run NAME CLIENT-ARGS...: one measurement of server NAME ($SERVER or uv_echo);
# appends "name rps srv_us_per_req cli_us_per_req p50_us rss_kib" to $T/NAME.
run() {
    name=$1; shift
    point=$((point + 1))
    addr=127.0.0.$((point % 200 + 20))  # fresh address pair: no TIME_WAIT in the way
    port=$((20000 + point % 1000))
    if [ "$name" = base ]; then
        taskset -c 0 "$BASE/$SERVER" -q -a "$addr" "$port" & SRV=$!
    elif [ "$name" != uv_echo ]; then
        taskset -c 0 "./$name" -q -a "$addr" "$port" & SRV=$!
    else
        # uv_echo listens on 127.0.0.1 only
        addr=127.0.0.1
        taskset -c 0 "$UV" "$port" 2>/dev/null & SRV=$!
    fi
    sleep 0.3
    s0=$(ticks $SRV)
    child_cpu >"$T/c0"
    taskset -c 1 ./cli_flood -a "$addr" -p "$port" --json "$@" >"$T/out.json" 2>/dev/null &
    cli=$!
    sleep 1
    rss=$(awk '/VmRSS/ { print $2 }' /proc/$SRV/status)
    wait $cli
    child_cpu >"$T/c1"
    c0=$(cat "$T/c0") c1=$(cat "$T/c1")
    s1=$(ticks $SRV)
    kill -TERM $SRV; wait $SRV 2>/dev/null; SRV=
    jq -r --arg n "$name" --argjson st "$((s1 - s0))" --argjson hz "$HZ" --arg rss "$rss" \
        --argjson ct "$(echo "$c1 - $c0" | bc -l | sed 's/^\./0./')" \
        '"\($n) \(.requests_per_s) \($st * 1e6 / $hz / ([.succeeded, 1] | max)) \($ct * 1e6 / ([.succeeded, 1] | max)) \(.latency_us.p50) \($rss)"' \
        "$T/out.json" >>"$T/$name"
}

# pairs LABEL CLIENT-ARGS...: PAIRS interleaved runs of both servers; prints medians.
pairs() {
    label=$1; shift
    rm -f "$T/$SERVER" "$T/$OTHER"
    for _ in $(seq "$PAIRS"); do run "$SERVER" "$@"; run "$OTHER" "$@"; done
    e_rps=$(cut -d' ' -f2 "$T/$SERVER" | median); u_rps=$(cut -d' ' -f2 "$T/$OTHER" | median)
    e_cpu=$(cut -d' ' -f3 "$T/$SERVER" | median); u_cpu=$(cut -d' ' -f3 "$T/$OTHER" | median)
    e_rss=$(cut -d' ' -f6 "$T/$SERVER" | median); u_rss=$(cut -d' ' -f6 "$T/$OTHER" | median)
    e_cli=$(cut -d' ' -f4 "$T/$SERVER" | median)
    printf '| %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %s |\n' "$label" "$e_rps" "$u_rps" \
        "$(echo "$e_rps / $u_rps" | bc -l)" "$e_cpu" "$u_cpu" "$(echo "$e_cpu / $u_cpu" | bc -l)" \
        "$(echo "$e_cli / $e_cpu" | bc -l)" "$e_rss" "$u_rss"
}

{
echo "perf: $SERVER vs $OTHER${BASE:+ ($BASE/$SERVER)}, $PAIRS interleaved pairs, medians; $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| load | $SERVER req/s | $OTHER req/s | ratio | $SERVER CPU us/req | $OTHER CPU us/req | CPU ratio | cli_flood/$SERVER CPU | $SERVER RSS KiB | $OTHER RSS KiB |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
pairs "held, closed loop, 1000 conns, ${DUR} s" -c 1000 -d "$DUR"
pairs "held, closed loop, 10000 conns, ${DUR} s" -c 10000 -d "$DUR"
pairs "one-shot, -n 100000 -c 1000" -n 100000 -c 1000
pairs "10000 nearly idle conns (100 req/s in all), 5 s: see RSS" -c 10000 -d 5 -R 100

# The rest measures srv_epoll alone.
[ "$SERVER" = srv_epoll ] && [ -z "$BASE" ] || exit 0

# Round-trip floor: one connection, closed loop, against sockperf's TCP ping-pong.
if command -v sockperf >/dev/null; then
    rm -f "$T/rtt_e" "$T/rtt_s"
    for _ in $(seq "$PAIRS"); do
        point=$((point + 1)); port=$((21000 + point % 1000))
        taskset -c 0 ./srv_epoll -q "$port" & SRV=$!; sleep 0.3
        taskset -c 1 ./cli_flood -p "$port" -c 1 -d "$DUR" --json 2>/dev/null | jq .latency_us.p50 >>"$T/rtt_e"
        kill -TERM $SRV; wait $SRV 2>/dev/null; SRV=
        taskset -c 0 sockperf server --tcp -i 127.0.0.1 -p "$port" >/dev/null 2>&1 & SRV=$!; sleep 0.5
        taskset -c 1 sockperf ping-pong --tcp -i 127.0.0.1 -p "$port" -t "$DUR" --full-rtt 2>&1 |
            sed -n 's/.*percentile 50.000 = *//p' >>"$T/rtt_s"
        kill -TERM $SRV; wait $SRV 2>/dev/null; SRV=
    done
    e=$(median <"$T/rtt_e"); sp=$(median <"$T/rtt_s")
    echo
    printf 'Round trip, 1 connection: srv_epoll+cli_flood p50 %.1f us, sockperf ping-pong p50 %.1f us, ratio %.2f\n' \
        "$e" "$sp" "$(echo "$e / $sp" | bc -l)"
else
    echo; echo "Round trip: sockperf not installed (apt-get install sockperf): skipped"
fi

# System calls per echoed request at 1000 busy connections.
point=$((point + 1)); port=$((22000 + point % 1000))
taskset -c 0 strace -f -c -o "$T/strace" ./srv_epoll -q "$port" & SRV=$!; sleep 0.5
taskset -c 1 ./cli_flood -p "$port" -n 200000 -c 1000 -r 200 --json >"$T/sc.json" 2>/dev/null
# strace passes signals on only to its tracee: stop srv_epoll itself.
kill -TERM $(pgrep -P $SRV); wait $SRV 2>/dev/null; SRV=
calls=$(awk '$NF == "total" { print $(NF-2) }' "$T/strace")
echo
printf 'System calls per request at 1000 connections x 200 requests: %.2f (%s calls for %s requests, including each connection'"'"'s accept, setup and close)\n' \
    "$(echo "$calls / $(jq .succeeded "$T/sc.json")" | bc -l)" "$calls" "$(jq .succeeded "$T/sc.json")"
} | tee "${OUT:-/dev/null}"
