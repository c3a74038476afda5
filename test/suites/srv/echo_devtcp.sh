# One timestamp line echoed through bash's /dev/tcp, as the README shows with nc.
. "$(dirname "$0")/../../lib/lib.sh"
start_server
exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "connect"
printf '42\n' >&3
read -r -t 5 line <&3 || fail "no echo within 5 s"
expect_eq "echo" "$line" "42"
printf '1732604400123456789\nsecond line\n' >&3
read -r -t 5 a <&3 && read -r -t 5 b <&3 || fail "no echo of two lines"
expect_eq "first line" "$a" "1732604400123456789"
expect_eq "second line" "$b" "second line"
exec 3<&-
# srv_fork and srv_thread count a send once it returned, in the child or thread that
# made it, which may not have run yet when the echo is read: wait until it has
# seen the close and ended (no child, one thread), 2 s at most.
for _ in $(seq 40); do
    [ -z "$(pgrep -P "$SRV_PID")" ] && [ "$(awk '/^Threads:/ { print $2 }' "/proc/$SRV_PID/status")" = 1 ] && break
    sleep 0.05
done
stop_server || fail "server exit status $?"
expect_eq "accepted" "$(stat_num accepted)" 1
expect_eq "bytes echoed" "$(stat_num bytes_echoed)" 35
echo "ok"
