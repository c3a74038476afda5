#!/bin/sh
# perf.sh: srv_epoll against the reference event loop (libuv's uv_echo) and the
# loopback round-trip floor (sockperf), as ratios of interleaved runs: A B A B ...
# Server on CPU 0, client on CPU 1. Prints a table; medians of -n pairs.
# -s compares another server (srv_uring, say) with uv_echo instead of srv_epoll.
# -b DIR compares with DIR/server instead of uv_echo: the A/B of a change (build
# the old commit into DIR first).
#
# Anchors: the leanest public echo servers, built outside this tree as measuring
# sticks (never commit them), and named by variables:
#   FREVIB_EPOLL=/path/to/epoll_echo_server   frevib/epoll-echo-server, as published:
#       clone it outside this tree and run make (gcc -O2 epoll_echo_server.c).
#   FREVIB_URING=/path/to/io_uring_echo_server   frevib/io_uring-echo-server, patched:
#       as published it dies at 10,000 connections, because io_uring_get_sqe()
#       returns NULL once a batch needs more than its 2,048 SQ entries and the
#       add_* functions write through that NULL. The patch: a get_sqe() that calls
#       io_uring_submit() and retries while io_uring_get_sqe() returns NULL, used by
#       every add_* function, and BUFFERS_COUNT 16384 instead of MAX_CONNECTIONS
#       (4,096 provided buffers run out at 10,000 connections: "bufs in automatic
#       buffer selection empty"). Build with liburing-dev: make.
# With either set, a last table runs srv_epoll, srv_uring, uv_echo and the anchors
# in turn at 10,000 and 1,000 held connections (closed loop, 64-byte requests,
# --connect-rate 10000 so that no server's short listen queue drops SYNs; the
# ramp is not measured), -r rounds (default 3), and prints medians with each
# server's ratio to the best public one, and the client's delayed ACKs per
# request (nstat), which move the server's CPU per request from round to round.
# -a runs that table alone.
#
#   test/tools/perf.sh [-a] [-n pairs] [-d seconds] [-o file] [-r rounds] [-s server] [-b dir]
set -u
cd "$(dirname "$0")/../.." || exit 1
. test/lib/core.sh
BIN=${BIN:-build}
PAIRS=5 DUR=10 OUT= SERVER=srv_epoll BASE= ROUNDS=3 ONLY_ANCHORS=
while getopts "an:d:o:r:s:b:" opt; do
    case $opt in
    a) ONLY_ANCHORS=1 ;;
    n) PAIRS=$OPTARG ;;
    d) DUR=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    o) OUT=$OPTARG ;;
    s) SERVER=$OPTARG ;;
    b) BASE=$OPTARG ;;
    *) echo "usage: test/tools/perf.sh [-a] [-n pairs] [-d seconds] [-o file] [-r rounds] [-s server] [-b dir]" >&2; exit 2 ;;
    esac
done
OTHER=uv_echo
if [ -n "$BASE" ]; then
    OTHER=base
    [ -x "$BASE/$SERVER" ] || { echo "perf: $BASE/$SERVER missing: build the baseline there" >&2; exit 1; }
fi
need_built perf "$BIN" srv_epoll "$SERVER" cli_flood
need_tools perf jq taskset strace bc
ANCHORS=
[ -n "${FREVIB_EPOLL:-}" ] && ANCHORS="$ANCHORS frevib_epoll"
[ -n "${FREVIB_URING:-}" ] && ANCHORS="$ANCHORS frevib_uring"
for a in $ANCHORS; do
    case $a in frevib_epoll) bin=$FREVIB_EPOLL ;; *) bin=$FREVIB_URING ;; esac
    [ -x "$bin" ] || { echo "perf: $a: $bin is not an executable: build it (see the header of test/tools/perf.sh)" >&2; exit 1; }
done
[ -n "$ONLY_ANCHORS" ] && [ -z "$ANCHORS" ] &&
    { echo "perf: -a needs FREVIB_EPOLL or FREVIB_URING (see the header of test/tools/perf.sh)" >&2; exit 2; }
UV=${UV_ECHO:-/tmp/c10k-uv_echo}
if { [ "$OTHER" = uv_echo ] || [ -n "$ANCHORS" ]; } && [ ! -x "$UV" ]; then
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

# run NAME CLIENT-ARGS...: one measurement of server NAME (one of ours, base,
# uv_echo or an anchor); appends "name rps srv_us_per_req cli_us_per_req p50_us
# rss_kib p99_us delayed_acks_per_req" to $T/NAME.
run() {
    name=$1; shift
    point=$((point + 1))
    addr=127.0.0.$((point % 200 + 20))  # fresh address pair: no TIME_WAIT in the way
    port=$(free_port) || { echo "perf: no free port" >&2; exit 1; }
    case $name in
    base) taskset -c 0 "$BASE/$SERVER" -q -a "$addr" "$port" & SRV=$! ;;
    # frevib's servers listen on every address
    frevib_epoll) taskset -c 0 "$FREVIB_EPOLL" "$port" >/dev/null 2>&1 & SRV=$! ;;
    frevib_uring) taskset -c 0 "$FREVIB_URING" "$port" >/dev/null 2>&1 & SRV=$! ;;
    uv_echo)
        addr=127.0.0.1  # uv_echo listens on 127.0.0.1 only
        taskset -c 0 "$UV" "$port" 2>/dev/null & SRV=$! ;;
    *) taskset -c 0 "$BIN/$name" -q -a "$addr" "$port" & SRV=$! ;;
    esac
    wait_listen "$port" 5
    # The table is a pipeline's subshell: its exit status is lost, the file is not.
    kill -0 $SRV 2>/dev/null || { echo "perf: $name did not start (port $port)" >&2; SRV=; : >"$T/failed"; exit 1; }
    s0=$(cpu_ticks $SRV)
    nstat -n >/dev/null 2>&1
    child_cpu >"$T/c0"
    taskset -c 1 "$BIN/cli_flood" -a "$addr" -p "$port" --json "$@" >"$T/out.json" 2>/dev/null &
    cli=$!
    sleep 1
    rss=$(awk '/VmRSS/ { print $2 }' /proc/$SRV/status)
    wait $cli
    child_cpu >"$T/c1"
    c0=$(cat "$T/c0") c1=$(cat "$T/c1")
    s1=$(cpu_ticks $SRV)
    kill -TERM $SRV; wait $SRV 2>/dev/null; SRV=
    # The client sockets' delayed ACKs fire on the server's core (loopback delivers
    # the echo there): a closed loop that falls into sending them costs the server
    # more per request, whatever its code. Machine-wide counts, this run's mostly.
    dacks=$(nstat 2>/dev/null | awk '$1 == "TcpExtDelayedACKs" { print $2; f = 1 } END { if (!f) print 0 }')
    jq -r --arg n "$name" --argjson dacks "$dacks" --argjson st "$((s1 - s0))" --argjson hz "$HZ" --arg rss "$rss" \
        --argjson ct "$(echo "$c1 - $c0" | bc -l | sed 's/^\./0./')" \
        '"\($n) \(.requests_per_s) \($st * 1e6 / $hz / ([.succeeded, 1] | max)) \($ct * 1e6 / ([.succeeded, 1] | max)) \(.latency_us.p50) \($rss) \(.latency_us.p99) \($dacks / ([.succeeded, 1] | max))"' \
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

# anchors: every server in turn, ROUNDS rounds, at 10,000 and 1,000 connections;
# prints medians and each one's ratios to the public server of the highest rate.
anchors() {
    servers="srv_epoll"
    [ -x "$BIN/srv_uring" ] && servers="$servers srv_uring"
    servers="$servers uv_echo$ANCHORS"
    echo
    echo "Anchors: closed loop, 64-byte requests, ${DUR} s a run after a --connect-rate 10000 ramp, $ROUNDS interleaved rounds, medians"
    echo
    echo "| connections | server | req/s | server CPU us/req | p99 ms | delayed ACKs/req | req/s / best public | CPU / best public's |"
    echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    for conns in 10000 1000; do
        for s in $servers; do rm -f "$T/$s"; done
        for _ in $(seq "$ROUNDS"); do
            for s in $servers; do run "$s" -c "$conns" -d "$DUR" --connect-rate 10000; done
        done
        best_rps=0 best_cpu=1
        for s in $servers; do
            rps=$(cut -d' ' -f2 "$T/$s" | median) cpu=$(cut -d' ' -f3 "$T/$s" | median)
            p99=$(cut -d' ' -f7 "$T/$s" | median) dack=$(cut -d' ' -f8 "$T/$s" | median)
            echo "$s $rps $cpu $p99 $dack" >>"$T/anchor.$conns"
            case $s in srv_*) ;; *)
                if [ "$(echo "$rps > $best_rps" | bc -l)" = 1 ]; then best_rps=$rps best_cpu=$cpu; fi ;;
            esac
        done
        while read -r s rps cpu p99 dack; do
            printf '| %d | %s | %.0f | %.2f | %.1f | %.2f | %.2f | %.2f |\n' "$conns" "$s" "$rps" "$cpu" \
                "$(echo "$p99 / 1000" | bc -l)" "$dack" "$(echo "$rps / $best_rps" | bc -l)" "$(echo "$cpu / $best_cpu" | bc -l)"
        done <"$T/anchor.$conns"
    done
}

{
if [ -n "$ONLY_ANCHORS" ]; then
    echo "perf: anchors; $(date -u +%Y-%m-%dT%H:%MZ)"
    anchors
    exit 0
fi
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
if [ -n "$ANCHORS" ]; then anchors; else
    echo; echo "Anchors: FREVIB_EPOLL and FREVIB_URING not set (see the header of test/tools/perf.sh): skipped"
fi

# Round-trip floor: one connection, closed loop, against sockperf's TCP ping-pong.
if command -v sockperf >/dev/null; then
    rm -f "$T/rtt_e" "$T/rtt_s"
    for _ in $(seq "$PAIRS"); do
        port=$(free_port)
        taskset -c 0 "$BIN/srv_epoll" -q "$port" & SRV=$!; wait_listen "$port" 5
        taskset -c 1 "$BIN/cli_flood" -p "$port" -c 1 -d "$DUR" --json 2>/dev/null | jq .latency_us.p50 >>"$T/rtt_e"
        kill -TERM $SRV; wait $SRV 2>/dev/null; SRV=
        port=$(free_port)
        taskset -c 0 sockperf server --tcp -i 127.0.0.1 -p "$port" >/dev/null 2>&1 & SRV=$!; wait_listen "$port" 5
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
port=$(free_port)
taskset -c 0 strace -f -c -o "$T/strace" "$BIN/srv_epoll" -q "$port" & SRV=$!; wait_listen "$port" 5
taskset -c 1 "$BIN/cli_flood" -p "$port" -n 200000 -c 1000 -r 200 --json >"$T/sc.json" 2>/dev/null
# strace passes signals on only to its tracee: stop srv_epoll itself.
kill -TERM $(pgrep -P $SRV); wait $SRV 2>/dev/null; SRV=
calls=$(awk '$NF == "total" { print $(NF-2) }' "$T/strace")
echo
printf 'System calls per request at 1000 connections x 200 requests: %.2f (%s calls for %s requests, including each connection'"'"'s accept, setup and close)\n' \
    "$(echo "$calls / $(jq .succeeded "$T/sc.json")" | bc -l)" "$calls" "$(jq .succeeded "$T/sc.json")"
} | tee "${OUT:-/dev/null}"
[ ! -e "$T/failed" ]
