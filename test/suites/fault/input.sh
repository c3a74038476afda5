# Input the protocol never promised: random binary, NULs, 4 MiB with no newline,
# 100,000 one-byte writes. A transparent echo returns every byte exactly.
. "$(dirname "$0")/../../lib/lib.sh"
start_server
total=0
while read -r bytes opts; do
    "$PEER" "$PORT" echo "$bytes" "$opts" >"$T/peer.out" || fail "echo $bytes $opts: $(cat "$T/peer.out")"
    cat "$T/peer.out"
    total=$((total + bytes))
done <<'LIST'
1048576 random
1048576 zeros
4194304 nonl
100000 bytewise
65537 random,slow
LIST
# Several at once, so their bytes interleave in the server.
pids=
for o in random zeros nonl random,slow; do
    "$PEER" "$PORT" echo 2000000 "$o" >"$T/par.$o.out" &
    pids="$pids $!"
done
for j in $pids; do wait "$j" || fail "concurrent echo: $(cat "$T"/par.*.out)"; done
total=$((total + 4 * 2000000))
stop_server || fail "server exit status $?"
expect_eq "bytes echoed" "$(stat_num bytes_echoed)" "$total"
expect_eq "errors" "$(stat_num reset)/$(stat_num io_error)" 0/0
echo "ok: $total bytes echoed exactly"
