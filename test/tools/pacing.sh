#!/bin/sh
# pacing.sh: what a paced load costs the client, cli_flood against tcpkali, both
# driving the libuv echo server at the same rate: C connections x R requests a
# second each for D seconds. Runs interleaved (cli_flood, tcpkali, ...), the server
# on CPU 0, the client on CPU 1; prints each run and the medians of -n pairs.
# tcpkali is a measuring stick built outside this tree (see README, "Pacing"):
# TCPKALI=/path/to/tcpkali.
#
#   test/tools/pacing.sh [-n pairs] [-c connections] [-r rate-per-connection] [-d seconds]
set -u
cd "$(dirname "$0")/../.." || exit 1
. test/lib/core.sh
BIN=${BIN:-build}
PAIRS=3 CONNS=1000 RATE=10 DUR=10
while getopts "n:c:r:d:" opt; do
    case $opt in
    n) PAIRS=$OPTARG ;;
    c) CONNS=$OPTARG ;;
    r) RATE=$OPTARG ;;
    d) DUR=$OPTARG ;;
    *) echo "usage: test/tools/pacing.sh [-n pairs] [-c connections] [-r rate-per-connection] [-d seconds]" >&2; exit 2 ;;
    esac
done
TK=${TCPKALI:-tcpkali}
command -v "$TK" >/dev/null ||
    { echo "pacing: tcpkali not found: build satori-com/tcpkali outside this tree and set TCPKALI" >&2; exit 1; }
need_tools pacing jq taskset bc
need_built pacing "$BIN" cli_flood
UV=${UV_ECHO:-/tmp/c10k-uv_echo}
[ -x "$UV" ] || cc -O2 -o "$UV" ../shared/anchors/uv_echo.c -luv 2>/dev/null ||
    { echo "pacing: cannot build the libuv anchor: apt-get install libuv1-dev" >&2; exit 1; }
T=$(mktemp -d)
SRV=
trap '[ -n "$SRV" ] && kill -KILL $SRV 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

# cpu_of CMD...: runs CMD on CPU 1; its user + system CPU seconds go to $T/cpu
# (the children's times of a subshell that ran only CMD).
cpu_of() {
    (taskset -c 1 "$@"; times >"$T/times")
    tail -1 "$T/times" | awk '{ gsub(/[ms]/, " "); split($0, f, " "); print f[1] * 60 + f[2] + f[3] * 60 + f[4] }' >"$T/cpu"
}
server() {
    port=$(free_port) || { echo "pacing: no free port" >&2; exit 1; }
    taskset -c 0 "$UV" "$port" >/dev/null 2>&1 & SRV=$!
    wait_listen "$port" || { echo "pacing: uv_echo is not listening on $port" >&2; exit 1; }
}
stop() { kill -INT $SRV; wait $SRV 2>/dev/null; SRV=; }

echo "pacing: $CONNS connections x $RATE requests/s for $DUR s against uv_echo, $PAIRS interleaved pairs; $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| client | run | CPU s | requests | requests/s | CPU us/request | p50 ms | p99 ms | send lag p99 us |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
rm -f "$T/cf" "$T/tk"
for i in $(seq "$PAIRS"); do
    server
    cpu_of "$BIN/cli_flood" -p "$port" -c "$CONNS" -R $((CONNS * RATE)) -d "$DUR" --connect-rate 10000 \
        --json >"$T/cf.json" 2>"$T/cf.err"
    stop
    cpu=$(cat "$T/cpu") n=$(jq .succeeded "$T/cf.json")
    echo "cli_flood $cpu $n $(jq -r '"\(.requests_per_s) \(.latency_us.p50 / 1000) \(.latency_us.p99 / 1000) \(.send_lag_us.p99)"' "$T/cf.json")" |
        tee -a "$T/cf" | awk -v i="$i" '{ printf "| %s | %d | %.2f | %d | %.0f | %.1f | %.2f | %.2f | %.0f |\n", $1, i, $2, $3, $4, $2 * 1e6 / $3, $5, $6, $7 }'
    server
    # tcpkali's messages are 'hello\n'; the count is the bytes echoed over 6.
    cpu_of "$TK" -c "$CONNS" -r "$RATE" --connect-rate 10000 -T "${DUR}s" -em 'hello\n' \
        --latency-marker hello --latency-percentiles 50,99 "127.0.0.1:$port" >"$T/tk.out" 2>&1
    stop
    cpu=$(cat "$T/cpu")
    n=$(($(sed -n 's/^Total data received: .*(\([0-9]*\) bytes).*/\1/p' "$T/tk.out") / 6))
    # "Message latency at percentiles: 0.2/0.3 ms (50/99%)"
    lat=$(sed -n 's|^Message latency at percentiles: \([0-9.]*\)/\([0-9.]*\) ms.*|\1 \2|p' "$T/tk.out")
    echo "tcpkali $cpu $n $(echo "$n / $DUR" | bc -l) ${lat:-- -} -" |
        tee -a "$T/tk" | awk -v i="$i" '{ printf "| %s | %d | %.2f | %d | %.0f | %.1f | %s | %s | %s |\n", $1, i, $2, $3, $4, $2 * 1e6 / $3, $5, $6, $7 }'
done
for c in cf tk; do
    awk '{ print $2 * 1e6 / $3 }' "$T/$c" | median >"$T/$c.us"
    awk '{ print $4 }' "$T/$c" | median >"$T/$c.rate"
done
echo
printf 'Medians: CPU per request cli_flood %.1f us, tcpkali %.1f us (ratio %.2f); rate %.0f / %.0f per s (asked %d)\n' \
    "$(cat "$T/cf.us")" "$(cat "$T/tk.us")" "$(echo "$(cat "$T/cf.us") / $(cat "$T/tk.us")" | bc -l)" \
    "$(cat "$T/cf.rate")" "$(cat "$T/tk.rate")" $((CONNS * RATE))
