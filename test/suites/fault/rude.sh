# Abrupt and rude clients: resets mid-stream, half-closes, and clients that send
# but never read. Those must meet backpressure (the server stops reading from them
# once 64 KiB of echo is queued) instead of growing the server without bound, and
# must not slow anyone else down.
. "$(dirname "$0")/../../lib/lib.sh"
start_server
# Warm up first: a server may map a fixed buffer pool (srv_uring's is 16 MiB) that
# one pass of traffic touches. The growth measured after it is what clients cost.
"$PEER" "$PORT" echo $((32 << 20)) >"$T/warm.out" || fail "warm-up echo: $(cat "$T/warm.out")"
rss0=$(rss_kb "$SRV_PID")
# 10 non-readers push for 3 s. Kernel buffers on both ends take a few MiB each
# (filled in milliseconds); past those, only the server's bounded queue could
# take more.
"$PEER" "$PORT" noread 10 3 >"$T/noread.out" &
NOREAD=$!
sleep 0.5
# Meanwhile, everyone else is served: a flood and an exact 4 MiB echo.
flood -n 2000 -t 10 >/dev/null
expect_eq "flood beside non-readers" "$CLI_RC" 0
"$PEER" "$PORT" echo 4194304 >"$T/echo.out" || fail "echo beside non-readers: $(cat "$T/echo.out")"
sleep 1
rss1=$(rss_kb "$SRV_PID")
wait "$NOREAD" || fail "non-readers: $(cat "$T/noread.out")"
most=$(peer_num max_per_conn "$T/noread.out")
stalled=$(peer_num stalled_for "$T/noread.out")
# Without backpressure a non-reader pushes GiBs in 3 s on loopback. With it, what
# one gets in is at most the kernel's buffers on both ends (autotuned up to the
# tcp_rmem and tcp_wmem maxima; usually 7-9 MiB, once 31 MiB behind srv_fork's
# children) plus the server's 64 KiB.
buffers=$(( $(awk '{ print $3 }' /proc/sys/net/ipv4/tcp_rmem) + $(awk '{ print $3 }' /proc/sys/net/ipv4/tcp_wmem) ))
expect_le "bytes one non-reader got into its connection" "$most" $((2 * buffers + (1 << 20)))
[ "${stalled%.*}" -ge 1 ] || fail "non-readers were still sending ${stalled} s before the end: no backpressure"
grow=$((rss1 - rss0))
# Sanitized builds keep freed memory in quarantine and shadow every byte.
expect_le "server RSS growth (KiB) with 10 non-readers" "$grow" $([ -n "${C10K_SANITIZE:-}" ] && echo 131072 || echo 10240)
# Resets mid-stream: the server has echo in flight and meets an RST.
for _ in $(seq 20); do
    "$PEER" "$PORT" reset 1000000 >/dev/null || fail "reset client"
done
# Half-closes: everything sent before the FIN comes back, then the server closes.
for n in 0 1 300000 4194304; do
    "$PEER" "$PORT" halfclose $n >"$T/half.out" || fail "half-close after $n bytes: $(cat "$T/half.out")"
done
kill -0 "$SRV_PID" 2>/dev/null || fail "server died"
"$PEER" "$PORT" echo 1048576 random >"$T/echo2.out" || fail "echo after the rude ones: $(cat "$T/echo2.out")"
stop_server || fail "server exit status $?"
expect_eq "accepted" "$(stat_num accepted)" $((1 + 10 + 2000 + 1 + 20 + 4 + 1))
# The 20 resets mid-echo count as resets (the non-readers may add theirs), never
# as other I/O errors.
r=$(stat_num reset)
[ "$r" -ge 20 ] || fail "server counted $r resets for 20 reset clients"
expect_eq "server io_error" "$(stat_num io_error)" 0
echo "ok: $(cat "$T/noread.out" | tail -1) rss_growth_kb=$grow reset=$(stat_num reset) io_error=$(stat_num io_error)"
