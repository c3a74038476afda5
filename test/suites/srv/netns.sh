# Three hosts on a real network path: srv_epoll in one network namespace, cli_flood
# and peer in two others at the same time, each client joined by a veth pair to a
# bridge in the server's namespace. The two clients are also the "several
# machines" of cli_flood(1): a paced run from each, with -i and --hgrm, merged,
# must give the union (counts the sums, the histogram the bucket-wise sum). Every address (10.201.8.0/24) and sysctl lives
# only inside namespaces this test creates and deletes; nothing changes on the host.
#
#   c10k-cliA-PID  eth0 10.201.8.2 --veth-- vethA \
#                                                  br0 10.201.8.1  c10k-srv-PID
#   c10k-cliB-PID  eth0 10.201.8.3 --veth-- vethB /
. "$(dirname "$0")/../../lib/lib.sh"
. "$(dirname "$0")/../../lib/hgrm_lib.sh"

[ "$(id -u)" = 0 ] || skip "creating network namespaces needs root (ip netns add)"
need_tool ip iproute2
need_tool jq jq

NS_S=c10k-srv-$$ NS_A=c10k-cliA-$$ NS_B=c10k-cliB-$$
SRV_IP=10.201.8.1
NETS=      # namespaces created so far; deleting one deletes its veths and bridge
KIDS=      # clients started in the background

teardown() {
    local rc=$?
    for p in $KIDS; do kill -KILL "$p" 2>/dev/null; done
    [ -n "$SRV_PID" ] && kill -KILL "$SRV_PID" 2>/dev/null
    # Before cleanup, which exits: namespaces would otherwise outlive the test.
    for ns in $NETS; do ip netns del "$ns" 2>/dev/null; done
    (exit $rc)
    cleanup  # lib.sh: the server by PID, sanitizer reports, the temp dir; keeps rc
}
trap teardown EXIT
trap 'exit 1' INT TERM HUP

# setup CMD...: a step that needs privileges or kernel features (netns, veth,
# bridge) this machine may lack, so its failure is a skip, not a test failure.
setup() {
    "$@" 2>"$T/ip.err" || skip "not permitted here: '$*' failed: $(head -1 "$T/ip.err")"
}
for ns in "$NS_S" "$NS_A" "$NS_B"; do
    setup ip netns add "$ns"
    NETS="$NETS $ns"
    setup ip -n "$ns" link set lo up
done
setup ip -n "$NS_S" link add br0 type bridge
setup ip -n "$NS_S" addr add "$SRV_IP/24" dev br0
setup ip -n "$NS_S" link set br0 up
host=2
for c in A B; do
    ns=c10k-cli$c-$$
    setup ip -n "$NS_S" link add "veth$c" type veth peer name eth0 netns "$ns"
    setup ip -n "$NS_S" link set "veth$c" master br0 up
    setup ip -n "$ns" addr add "10.201.8.$host/24" dev eth0
    setup ip -n "$ns" link set eth0 up
    host=$((host + 1))
done
# 2 clients x 2000 concurrent connects: a backlog of 4096 in the server's namespace,
# the default ephemeral range in each client's (both per-namespace).
ip netns exec "$NS_S" sh -c 'echo 4096 >/proc/sys/net/core/somaxconn' ||
    fail "cannot set somaxconn in $NS_S"

# With STP off, bridge ports forward as soon as they are up; wait for that anyway.
for c in A B; do
    for _ in $(seq 100); do
        [ "$(ip netns exec "$NS_S" cat /sys/class/net/veth$c/brport/state)" = 3 ] && break
        sleep 0.05
    done
done

# ctr PORT rx|tx: byte counter of the server-side veth of client PORT (A or B).
ctr() {
    ip netns exec "$NS_S" cat "/sys/class/net/veth$1/statistics/$2_bytes"
}
# mono_digits: decimal digits of CLOCK_MONOTONIC ns now, i.e. a request line's length - 1.
mono_digits() {
    local ns
    ns=$(awk '/^now at/ {print $3; exit}' /proc/timer_list 2>/dev/null)
    [ -n "$ns" ] || ns=$(awk '{printf "%d", $1 * 1e9}' /proc/uptime)
    echo ${#ns}
}

SRV_NETNS=$NS_S
start_server -a "$SRV_IP"
[ "$(readlink "/proc/$SRV_PID/ns/net")" = "$(readlink /proc/self/ns/net)" ] &&
    fail "server is not in its own network namespace"
for c in A B; do
    eval "RX0_$c=$(ctr $c rx) TX0_$c=$(ctr $c tx)"
done
DIGITS0=$(mono_digits)
START=$(date +%s.%N)

# both_flood TAG ARGS...: cli_flood from both client namespaces at once.
both_flood() {
    local tag=$1 pa pb
    shift
    ip netns exec "$NS_A" "$CLI" -a "$SRV_IP" -p "$PORT" --json "$@" >"$T/A$tag.json" 2>"$T/A$tag.err" &
    pa=$!
    ip netns exec "$NS_B" "$CLI" -a "$SRV_IP" -p "$PORT" --json "$@" >"$T/B$tag.json" 2>"$T/B$tag.err" &
    pb=$!
    KIDS="$pa $pb"
    wait "$pa" || fail "client A ($tag) exit status $?: $(cat "$T/A$tag.err")"
    wait "$pb" || fail "client B ($tag) exit status $?: $(cat "$T/B$tag.err")"
    KIDS=
    for c in A B; do
        echo "client $c ($tag): $(cat "$T/$c$tag.json")"
        expect_eq "client $c ($tag) failed" "$(json_num failed "$T/$c$tag.json")" 0
    done
}

# One-shot connections: 5000 from each side, 2000 open at a time.
both_flood 1 -n 5000 -c 2000 -t 30
for c in A B; do
    expect_eq "client $c succeeded" "$(json_num succeeded "$T/${c}1.json")" 5000
    expect_eq "client $c connections" "$(json_num connections "$T/${c}1.json")" 5000
done
# Held connections: 50 requests each over 500 connections per side.
both_flood 50 -n 25000 -c 250 -r 50 -t 30
for c in A B; do
    expect_eq "client $c succeeded (-r 50)" "$(json_num succeeded "$T/${c}50.json")" 25000
    expect_eq "client $c connections (-r 50)" "$(json_num connections "$T/${c}50.json")" 500
done

# Two hosts, one run each, merged as from several machines: 100 held connections
# at 2000 requests/s for 2 s from each side, JSON Lines (-i 1) and --hgrm.
HELD=100
for c in A B; do
    ip netns exec "c10k-cli$c-$$" "$CLI" -a "$SRV_IP" -p "$PORT" -d 2 -c $HELD -R 2000 -i 1 \
        --json --hgrm "$T/$c.hgrm" >"$T/${c}R.jsonl" 2>"$T/${c}R.err" &
    eval "p$c=\$!"
done
KIDS="$pA $pB"
wait "$pA" || fail "client A (paced) exit status $?: $(cat "$T/AR.err")"
wait "$pB" || fail "client B (paced) exit status $?: $(cat "$T/BR.err")"
KIDS=
for c in A B; do
    tail -1 "$T/${c}R.jsonl" >"$T/${c}R.json"
    expect_eq "client $c (paced) failed" "$(jq .failed "$T/${c}R.json")" 0
    expect_eq "client $c (paced) succeeded" "$(jq .succeeded "$T/${c}R.json")" 4000
    expect_eq "client $c (paced): the intervals add up" \
        "$(jq -s 'map(select(.type == "interval") | .completed) | add' "$T/${c}R.jsonl")" 4000
    check_hgrm "$T/$c.hgrm" "$T/${c}R.json" "client $c --hgrm"
done
"$CLI" --merge --json --hgrm "$T/M.hgrm" "$T/AR.jsonl" "$T/BR.jsonl" >"$T/M.json" ||
    fail "merge of the two hosts: exit status $?"
for key in succeeded requests connections concurrency rate; do
    expect_eq "merged $key" "$(jq .$key "$T/M.json")" \
        "$(jq -s "map(.$key) | add" "$T/AR.json" "$T/BR.json")"
done
buckets_sum=$(jq -s -c '[.[].histogram.buckets] | add | group_by(.[0]) | map([.[0][0], (map(.[1]) | add)])' \
    "$T/AR.json" "$T/BR.json")
expect_eq "merged histogram = the two hosts' bucket by bucket" "$(jq -c .histogram.buckets "$T/M.json")" "$buckets_sum"
expect_eq "merged max = the larger max" "$(jq .latency_us.max "$T/M.json")" \
    "$(jq -s 'map(.latency_us.max) | max' "$T/AR.json" "$T/BR.json")"
expect_eq "merged min = the smaller min" "$(jq .latency_us.min "$T/M.json")" \
    "$(jq -s 'map(.latency_us.min) | min' "$T/AR.json" "$T/BR.json")"
jq -s -e '(.[0].latency_us.p50) as $a | (.[1].latency_us.p50) as $b | .[2].latency_us.p50 as $m
    | $m >= ([$a, $b] | min) and $m <= ([$a, $b] | max)' "$T/AR.json" "$T/BR.json" "$T/M.json" >/dev/null ||
    fail "merged p50 $(jq .latency_us.p50 "$T/M.json") not between the hosts' $(jq .latency_us.p50 "$T/AR.json") and $(jq .latency_us.p50 "$T/BR.json")"
check_hgrm "$T/M.hgrm" "$T/M.json" "merged --hgrm"

# A known byte count, checked byte for byte, from each side at once.
PEER_BYTES=1000000
PEER_HOST=$SRV_IP ip netns exec "$NS_A" "$PEER" "$PORT" echo $PEER_BYTES >"$T/peerA" 2>&1 &
pa=$!
PEER_HOST=$SRV_IP ip netns exec "$NS_B" "$PEER" "$PORT" echo $PEER_BYTES >"$T/peerB" 2>&1 &
pb=$!
KIDS="$pa $pb"
wait "$pa" || fail "peer A: $(cat "$T/peerA")"
wait "$pb" || fail "peer B: $(cat "$T/peerB")"
KIDS=
cat "$T/peerA" "$T/peerB"
DIGITS1=$(mono_digits)

stop_server || fail "server exit status $?"
ELAPSED=$(awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}')
grep stats "$T/srv.out"

# Each client's bytes: one (digits + newline) line per request, plus its peer's bytes.
expect_eq "request line length stable" "$DIGITS1" "$DIGITS0"
LINE=$((DIGITS0 + 1))
for c in A B; do
    eval "SENT_$c=$((($(json_num succeeded "$T/${c}1.json") + $(json_num succeeded "$T/${c}50.json") + $(jq .succeeded "$T/${c}R.json")) * LINE + PEER_BYTES))"
done
expect_eq "server accepted" "$(stat_num accepted)" $((5000 * 2 + 500 * 2 + HELD * 2 + 2))
expect_eq "server bytes_echoed" "$(stat_num bytes_echoed)" $((SENT_A + SENT_B))

# The bytes crossed the veths: each server-side port received at least what its client
# sent and transmitted at least the echo (payload; headers and handshakes add more).
for c in A B; do
    eval "sent=\$SENT_$c rx=\$(( \$(ctr $c rx) - RX0_$c )) tx=\$(( \$(ctr $c tx) - TX0_$c ))"
    echo "veth$c: client sent $sent payload bytes; port rx +$rx tx +$tx bytes"
    [ "$rx" -ge "$sent" ] || fail "veth$c received $rx bytes, less than the $sent its client sent"
    [ "$tx" -ge "$sent" ] || fail "veth$c transmitted $tx bytes, less than the $sent echoed"
done
echo "ok: 3 namespaces, $(stat_num accepted) connections, $(stat_num bytes_echoed) bytes echoed in ${ELAPSED} s"
