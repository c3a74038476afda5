# srv_uring's modes: bundled multishot receives into provided buffers from Linux
# 6.15, multishot ones (one buffer a completion) from 6.1 or when
# SRV_URING_NO_BUNDLE is set, -t driven by a timeout request, the fallback when
# SRV_URING_PLAIN is set; and where io_uring_setup is refused (here by a seccomp
# filter) it exits 1 with the reason and a hint, and server tests skip.
. "$(dirname "$0")/../../lib/lib.sh"
kernel=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
want='multishot accept and recv, provided buffers'
[ "$kernel" -ge 6015 ] && want='multishot accept and bundled recv, provided buffers'
start_server
grep -qF "strategy io_uring ($want)" "$T/srv.out" || fail "default mode on $(uname -r): $(cat "$T/srv.out")"
stop_server || fail "exit status $?"
SRV_URING_NO_BUNDLE=1 start_server
grep -qF 'strategy io_uring (multishot accept and recv, provided buffers)' "$T/srv.out" ||
    fail "SRV_URING_NO_BUNDLE mode: $(cat "$T/srv.out")"
stop_server || fail "exit status $?"
# -t: a timeout request ticking once a second closes idle connections.
start_server -t 1
"$PEER" "$PORT" hold 3 4 >"$T/hold.out" 2>&1 &
HOLD=$!
sleep 2.5
stop_server || fail "exit status $?"
wait "$HOLD"
expect_eq "idle_closed after 2.5 s with -t 1" "$(stat_num idle_closed)" 3
SRV_URING_PLAIN=1 start_server
grep -q 'strategy io_uring (single-shot accept, recv per connection)' "$T/srv.out" ||
    fail "SRV_URING_PLAIN mode: $(cat "$T/srv.out")"
stop_server || fail "exit status $?"
"$NO_URING" true || skip "cannot install a seccomp filter here"
"$NO_URING" "$SERVER" 0 >"$T/o" 2>"$T/e"; rc=$?
expect_eq "exit status without io_uring" "$rc" 1
grep -q '^srv_uring: io_uring_setup: Operation not permitted (.*)$' "$T/e" ||
    fail "message: $(cat "$T/e")"
[ -s "$T/o" ] && fail "printed a start line: $(cat "$T/o")"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$NO_URING" "$SERVER" >"$T/wrapped"
chmod +x "$T/wrapped"
(SERVER="$T/wrapped"; start_server) >"$T/skip.out" 2>&1; rc=$?
expect_eq "start_server status without io_uring" "$rc" 77
grep -q '^SKIP: srv_uring: io_uring_setup: ' "$T/skip.out" || fail "skip reason: $(cat "$T/skip.out")"
echo "ok: $(cat "$T/e")"
