# Before any traffic cli_flood refuses what the machine cannot do, says why and
# how to fix it, and exits 1: a -c past the ephemeral port range or the descriptor
# limit. Options that do not fit together are usage errors (2).
. "$(dirname "$0")/../../lib/lib.sh"
start_server
read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
c=$(( hi - lo + 2 ))
"$CLI" -p "$PORT" -s 127.0.0.1 -d 1 -c "$c" >"$T/o" 2>"$T/e"; rc=$?
expect_eq "exit status for -c $c" "$rc" 1
grep -q "need $c local ports but net.ipv4.ip_local_port_range ($lo-$hi) gives $(( hi - lo + 1 )) over the -s addresses;" "$T/e" ||
    fail "port message: $(cat "$T/e")"
grep -q 'sysctl -w net.ipv4.ip_local_port_range' "$T/e" || fail "no fix named: $(cat "$T/e")"
grep -q 'add source addresses (-s 127.0.0.2-127.0.0.20' "$T/e" || fail "-s not named: $(cat "$T/e")"
grep -q 'spread the connections over worker processes (-w 2)' "$T/e" || fail "-w not named: $(cat "$T/e")"
# Without -s, a loopback target gets 8 source addresses, and 8 port ranges.
c=$(( 8 * (hi - lo + 1) + 2 ))
"$CLI" -p "$PORT" -d 1 -c "$c" >"$T/o" 2>"$T/e"; rc=$?
expect_eq "exit status for -c $c" "$rc" 1
grep -q "need $c local ports but .* gives $(( 8 * (hi - lo + 1) )) over the 8 loopback sources it uses by default" "$T/e" ||
    fail "default sources message: $(cat "$T/e")"
"$CLI" -p "$PORT" -d 1 -c 3 -w 4 >"$T/o" 2>"$T/e"; rc=$?
expect_eq "exit status for more workers than connections" "$rc" 2
"$CLI" -p "$PORT" -s 127.0.0.9-127.0.0.2 >"$T/o" 2>"$T/e"; rc=$?
expect_eq "exit status for a descending -s range" "$rc" 2
grep -q 'source range 127.0.0.9-127.0.0.2 must ascend' "$T/e" || fail "-s message: $(cat "$T/e")"
(ulimit -n 256 && ulimit -Hn 256 && exec "$CLI" -p "$PORT" -d 1 -c 1000) >"$T/o" 2>"$T/e"; rc=$?
expect_eq "exit status for -c 1000 under ulimit -n 256" "$rc" 1
grep -q 'needs 1008 descriptors per process but RLIMIT_NOFILE allows 256' "$T/e" || fail "fd message: $(cat "$T/e")"
grep -q 'ulimit -Hn' "$T/e" || fail "no fix named: $(cat "$T/e")"
[ -s "$T/o" ] && fail "a refused run printed a report"
for args in "-R 100" "--warmup 1" "-d 1 -n 5" "--blocking 2 -c 3" "--blocking 2 -d 1" "--merge"; do
    "$CLI" -p "$PORT" $args >"$T/o" 2>"$T/e"; rc=$?
    expect_eq "exit status for $args" "$rc" 2
    grep -q '^usage: cli_flood' "$T/e" || fail "no usage for $args: $(cat "$T/e")"
done
stop_server || fail "server exit status $?"
expect_eq "connections the refused runs made" "$(stat_num accepted)" 0
# Kernel memory: 3,000,000 connections on loopback are 6,000,000 sockets at 5 KB.
"$CLI" -p "$PORT" -d 1 -c 3000000 -w 200 -s 127.0.0.2-127.0.0.200 >"$T/o" 2>"$T/e"; rc=$?
avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
if [ "$avail" -lt 29000 ]; then
    expect_eq "exit status for 6,000,000 sockets" "$rc" 1
    grep -q "6000000 sockets need about 29296 MiB of kernel memory (5 KB each, the server's end included on loopback) but MemAvailable is" "$T/e" ||
        fail "memory message: $(cat "$T/e")"
fi
# The listen-queue warning names the burst: all of -c at once, or under
# --connect-rate those due in a 1 ms loop turn (3 x somaxconn a second: a few).
somaxconn=$(cat /proc/sys/net/core/somaxconn)
"$CLI" -p "$PORT" -d 1 -c 400 --connect-rate $((somaxconn * 3)) >"$T/o" 2>"$T/e"
grep -q 'listen queue' "$T/e" && fail "-c 400 warned of a listen-queue overflow: $(cat "$T/e")"
"$CLI" -p "$PORT" -d 1 -c $((somaxconn + 100)) --connect-rate $((somaxconn * 3)) >"$T/o" 2>"$T/e"
grep -q 'listen queue' "$T/e" && fail "-c $((somaxconn + 100)) at --connect-rate $((somaxconn * 3)) warned of a listen-queue overflow: $(cat "$T/e")"
"$CLI" -p "$PORT" -d 1 -c $((somaxconn + 100)) >"$T/o" 2>"$T/e"
grep -q "warning: $((somaxconn + 100)) connections at once can overflow the server's listen queue" "$T/e" ||
    fail "no listen-queue warning for -c $((somaxconn + 100)) at once: $(cat "$T/e")"
echo ok
