# cli_flood -l: requests of 16 bytes to 1 MiB, in every mode.
# - The wire format, as a recording server receives it: the timestamp's digits, the
#   pattern of cli_flood(1) byte by byte, a newline; exactly -l bytes.
# - Each size echoed whole by srv_epoll: every request succeeds, and bytes sent =
#   bytes received = requests x size, in one-shot, held, --blocking and -w runs.
# - The echo is checked byte for byte, deep in a large request: one byte flipped
#   or left out at offset 40,000 of a 64 KiB request is a mismatch, alone; so is
#   one flipped anywhere in a 1 MiB request, up to its last byte.
# - Bad sizes are usage errors that name the range.
. "$(dirname "$0")/../../lib/lib.sh"
need_tool jq jq
ECHO_SERVER=$SERVER

# The bytes a server receives: two requests of 100 bytes on one connection.
SERVER=$BADSRV
start_server "record=$T/rec"
"$CLI" -p "$PORT" -n 2 -c 1 -r 2 -l 100 --json >"$T/r.json" 2>"$T/cli.err"
expect_eq "record, -l 100: exit status" "$?" 0
kill -KILL "$SRV_PID"; wait "$SRV_PID" 2>/dev/null; SRV_PID=
expect_eq "bytes the server received" "$(wc -c <"$T/rec")" 200
expect_eq "lines the server received" "$(wc -l <"$T/rec")" 2
alphabet=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/
while IFS= read -r line; do
    expect_eq "a request's length (less its newline)" "${#line}" 99
    digits=${line%%[!0-9]*}
    [ ${#digits} -ge 10 ] || fail "a request starts with ${#digits} digits, not a timestamp: ${line:0:30}"
    want=$digits
    for ((j = ${#digits}; j < 99; j++)); do
        want+=${alphabet:$(((j * 2654435761 & 0xffffffff) >> 26)):1}
    done
    expect_eq "a 100-byte request: digits, then the pattern of cli_flood(1)" "$line" "$want"
done <"$T/rec"
echo "wire: $(head -c 60 "$T/rec")..."

# One byte wrong or missing at offset 40,000: a mismatch, and nothing else.
for mode in flip skip; do
    start_server $mode=40000
    "$CLI" -p "$PORT" -n 3 -c 1 -r 3 -l 65536 -t 5 --json >"$T/r.json" 2>"$T/cli.err"
    expect_eq "$mode at 40000: exit status" "$?" 1
    expect_eq "$mode at 40000: failures" "$(jq -c '[.failures | to_entries[] | select(.value > 0)]' "$T/r.json")" \
        '[{"key":"mismatch","value":3}]'
    kill -KILL "$SRV_PID"; wait "$SRV_PID" 2>/dev/null; SRV_PID=
done
# One byte flipped anywhere in a request of the largest size, 1 MiB: in the
# timestamp's digits, the pattern, at the 64 KiB read buffer's edges, the last byte
# of the pattern and the final newline, and at four offsets drawn from the test's
# seed (PEER_SEED, which a failure prints): a mismatch, alone. Past the first
# request, in the second on the same connection: the first succeeds.
mib=1048576
RANDOM=$PEER_SEED
offsets="0 9 40000 65535 65536 524288 $((mib - 2)) $((mib - 1))"
for _ in 1 2 3 4; do offsets="$offsets $(((RANDOM * 32768 + RANDOM) % mib))"; done
echo "flip offsets in a 1 MiB request: $offsets"
for off in $offsets $((mib + 1)) $((mib + mib / 2)) $((2 * mib - 1)); do
    start_server flip=$off
    "$CLI" -p "$PORT" -n 2 -c 1 -r 2 -l $mib -t 5 --json >"$T/r.json" 2>"$T/cli.err"
    rc=$?
    kill -KILL "$SRV_PID"; wait "$SRV_PID" 2>/dev/null; SRV_PID=
    # A mismatch closes the connection: the request after it on it fails too.
    want='[{"key":"mismatch","value":2}]' ok=0
    [ $off -ge $mib ] && want='[{"key":"mismatch","value":1}]' ok=1
    expect_eq "flip at $off of two 1 MiB requests: exit status" "$rc" 1
    expect_eq "flip at $off of two 1 MiB requests: failures" \
        "$(jq -c '[.failures | to_entries[] | select(.value > 0)]' "$T/r.json")" "$want"
    expect_eq "flip at $off of two 1 MiB requests: succeeded" "$(jq .succeeded "$T/r.json")" $ok
done
# The same server, its byte past the request: every request echoed whole.
start_server flip=1000000
"$CLI" -p "$PORT" -n 3 -c 1 -r 3 -l 65536 -t 5 --json >"$T/r.json" 2>"$T/cli.err"
expect_eq "flip past the stream: exit status" "$?" 0
kill -KILL "$SRV_PID"; wait "$SRV_PID" 2>/dev/null; SRV_PID=

# Every size against a real echo server, in each mode.
SERVER=$ECHO_SERVER
start_server
check() {  # check WHAT REQUESTS SIZE: the report in $T/r.json
    local what=$1 n=$2 size=$3
    expect_eq "$what: succeeded" "$(jq .succeeded "$T/r.json")" "$n"
    expect_eq "$what: failed" "$(jq .failed "$T/r.json")" 0
    expect_eq "$what: request_bytes" "$(jq .request_bytes "$T/r.json")" "$size"
    expect_eq "$what: bytes_sent" "$(jq .bytes_sent "$T/r.json")" $((n * size))
    expect_eq "$what: bytes_received" "$(jq .bytes_received "$T/r.json")" $((n * size))
    echo "$what: $(jq -c '{succeeded, bytes_sent, sent_bytes_per_s}' "$T/r.json")"
}
for size in 16 17 100 4096 65536 1048576; do
    n=$((size > 65536 ? 40 : 400))
    "$CLI" -p "$PORT" -n $n -c 20 -l $size -t 10 --json >"$T/r.json" 2>"$T/cli.err"
    expect_eq "one-shot -l $size: exit status" "$?" 0
    check "one-shot -l $size" $n $size
done
"$CLI" -p "$PORT" --blocking 4 -n 40 -r 10 -l 1048576 -t 10 --json >"$T/r.json" 2>"$T/cli.err"
expect_eq "--blocking -l 1048576: exit status" "$?" 0
check "--blocking -l 1048576" 40 1048576
"$CLI" -p "$PORT" -w 2 -n 400 -c 20 -l 65536 -t 10 --json >"$T/r.json" 2>"$T/cli.err"
expect_eq "-w 2 -l 65536: exit status" "$?" 0
check "-w 2 -l 65536" 400 65536
# Held: every byte counts, those of the connect phase none; 300 requests in the window.
"$CLI" -p "$PORT" -c 10 -d 1 -R 300 -l 65536 -t 10 --json >"$T/r.json" 2>"$T/cli.err"
expect_eq "held -R 300 -l 65536: exit status" "$?" 0
check "held -R 300 -l 65536" 300 65536
# The text report says the size and the bytes.
"$CLI" -p "$PORT" -n 10 -c 2 -l 1000 >"$T/r.txt" 2>"$T/cli.err"
grep -q "^  bytes       10000 sent, 10000 received (.* MiB/s), requests of 1000 bytes$" "$T/r.txt" ||
    fail "text report: no bytes line for -l 1000: $(grep bytes "$T/r.txt")"
"$CLI" -p "$PORT" -n 10 -c 2 >"$T/r.txt" 2>"$T/cli.err"
grep -q "^  bytes .*, timestamp lines$" "$T/r.txt" || fail "text report without -l: $(grep bytes "$T/r.txt")"
stop_server INT

for bad in 15 1048577 0 x; do
    "$CLI" -l $bad -n 1 >/dev/null 2>"$T/err"
    expect_eq "-l $bad: exit status" "$?" 2
    grep -q "^cli_flood: -l: the request size must be 16 to 1048576 bytes: $bad$" "$T/err" ||
        fail "-l $bad: $(head -1 "$T/err")"
done
echo "ok: every size echoed exact and counted, a wrong or missing byte deep in a request is a mismatch"
