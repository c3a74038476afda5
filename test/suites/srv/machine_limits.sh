# With -w, the start line's capacity is checked against the machine: fs.file-max
# and kernel memory (5 KB a socket) each get a warning naming the fix when the
# workers could hold more than they allow.
. "$(dirname "$0")/../../lib/lib.sh"
"$SERVER" -h | grep -q -- "-w workers" || skip "$(basename "$SERVER") has no -w (workers) option"
file_max=$(cat /proc/sys/fs/file-max)
nofile=$(ulimit -Hn)
# Enough workers to pass fs.file-max, at RLIMIT_NOFILE descriptors each.
w=$((file_max / nofile + 1))
[ "$w" -le 200 ] || skip "fs.file-max $file_max needs $w workers of $nofile descriptors to exceed"
start_server -w "$w"
capacity=$(sed -n 's/.* up to \([0-9]*\) connections.*/\1/p' "$T/srv.out")
[ "$capacity" -gt "$file_max" ] || fail "capacity $capacity is not above fs.file-max $file_max"
grep -q "warning: fs.file-max $file_max is below the $capacity connections the workers may hold; raise it (sysctl -w fs.file-max=$((capacity * 2)))" "$T/srv.err" ||
    fail "no fs.file-max warning: $(cat "$T/srv.err")"
avail_kib=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
if [ $((capacity * 5)) -gt $((avail_kib + avail_kib / 10)) ]; then
    grep -q "warning: $capacity connections would take about $((capacity * 5 / 1024)) MiB of kernel memory" "$T/srv.err" ||
        fail "no kernel memory warning: $(cat "$T/srv.err")"
elif [ $((capacity * 5)) -lt $((avail_kib - avail_kib / 10)) ]; then
    grep -q "kernel memory" "$T/srv.err" && fail "memory warning with room to spare: $(cat "$T/srv.err")"
fi
stop_server || fail "server exit status $?"
# One worker fits: no warning at all.
start_server -w 1
stop_server || fail "server exit status $?"
grep -q warning "$T/srv.err" && fail "warning for one worker: $(cat "$T/srv.err")"
echo "ok: -w $w, capacity $capacity above fs.file-max $file_max: warned"
