# Every pre-flight check of cli_flood, each asserted by its exact text, against the
# machine it describes: the /proc files it reads are replaced, in a mount namespace
# of the test's own (unshare -m, bind mounts), by files that say what the case
# needs; the TIME_WAIT count is made real in a network namespace of its own. So the checks are tested whatever this machine's sysctls are, and nothing
# outside the namespace changes. The runs aim at a closed port: a run that passes
# pre-flight then fails at once (refused, exit 1) and sends nothing.
. "$(dirname "$0")/../../lib/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root for a mount namespace"
need_tool unshare util-linux
need_tool prlimit util-linux
unshare -m true 2>/dev/null || skip "unshare -m is not permitted here"

# with_proc "FILE=CONTENT"... -- ARGS: cli_flood ARGS with each FILE showing CONTENT,
# in a network namespace of its own (nothing listens on its port 9).
with_proc() {
    local mounts= i=0
    while [ "$1" != -- ]; do
        i=$((i + 1))
        printf '%s\n' "${1#*=}" >"$T/fake$i"
        mounts="$mounts mount --bind $T/fake$i ${1%%=*} &&"
        shift
    done
    shift
    # A network namespace too: its TIME_WAIT count is 0, whatever the machine's.
    unshare -m -n --propagation private sh -c "ip link set lo up && $mounts exec \"\$0\" \"\$@\"" \
        "$CLI" -p 9 "$@" >"$T/o" 2>"$T/e"
}
nowarn() { grep -q "$1" "$T/e" && fail "warned '$1' where it should not: $(cat "$T/e")"; return 0; }
want() { grep -qF -- "$1" "$T/e" || fail "no '$1' in: $(cat "$T/e")"; }
range=/proc/sys/net/ipv4/ip_local_port_range reuse=/proc/sys/net/ipv4/tcp_tw_reuse

# Sockets in TIME_WAIT hold the ports a run needs (without tcp_tw_reuse). The
# kernel's count (/proc/net/sockstat) cannot be bind-mounted over: it is made real,
# in a network namespace of the test's own with 2,000 local ports, by 1,500
# connections that cli_flood closes first, each leaving its port in TIME_WAIT.
# The next run wants 600 at once: warned, and the 100 that find no port fail as
# no_ports, that cause alone.
need_tool jq jq
unshare -n sh -c '
    ip link set lo up && sysctl -qw net.ipv4.tcp_tw_reuse=0 && sysctl -qw net.ipv4.ip_local_port_range="60000 61999" || exit 3
    "$0" -q 9000 & srv=$!
    sleep 0.3
    "$1" -p 9000 -s 127.0.0.1 -n 1500 -c 100 -t 10 >/dev/null 2>&1 || { kill $srv; exit 4; }
    "$1" -p 9000 -s 127.0.0.1 -n 600 -c 600 -t 10 --json >"$2/tw.json" 2>"$2/e"; rc=$?
    kill $srv; wait $srv; exit $rc' "$SERVER" "$CLI" "$T"
expect_eq "exit status of the run beside 1,500 TIME_WAIT sockets (3: netns setup, 4: the first run)" "$?" 1
want "cli_flood: warning: 1500 sockets in TIME_WAIT hold local ports; 600 more connections may make connect() slow or fail with no_ports: wait 60 s for them to expire"
expect_eq "no_ports failures (600 wanted, 500 ports free)" "$(jq .failures.no_ports "$T/tw.json")" 100
expect_eq "every other cause" "$(jq '[.failures | to_entries[] | select(.key != "no_ports") | .value] | add' "$T/tw.json")" 0
expect_eq "succeeded" "$(jq .succeeded "$T/tw.json")" 500
with_proc "$reuse=0" "$range=60000 60999" -- -s 127.0.0.1 -n 100 -c 100
nowarn "in TIME_WAIT hold"
# More connections in all than ports, each leaving one in TIME_WAIT.
with_proc "$reuse=0" "$range=60000 60099" -- -s 127.0.0.1 -n 500 -c 10
want "cli_flood: warning: 500 connections in all, each leaving a local port in TIME_WAIT for 60 s, but only 100 ports: expect no_ports failures; use -r or -d to reuse connections, or sysctl -w net.ipv4.tcp_tw_reuse=1"
with_proc "$reuse=0" "$range=60000 60099" -- -s 127.0.0.1 -n 500 -r 50 -c 10
nowarn "connections in all"
# tcp_tw_reuse=2 (the default) takes ports back on loopback: no warning there.
with_proc "$reuse=2" "$range=60000 60099" -- -s 127.0.0.1 -n 500 -c 10
nowarn "connections in all"
# The server's listen queue.
with_proc "/proc/sys/net/core/somaxconn=128" -- -d 1 -c 500
want "cli_flood: warning: 500 connections at once can overflow the server's listen queue (net.core.somaxconn 128): dropped SYNs are retried after 1 s; use --connect-rate or raise it (sysctl -w net.core.somaxconn=500)"
with_proc "/proc/sys/net/core/somaxconn=128" -- -d 1 -c 500 --connect-rate 100
nowarn "listen queue"
# --connect-rate spreads the connections over each second: 5,000 a second is 5
# a millisecond, far below a queue of 4,096. 200,000 a second is 200 in a 1 ms
# loop turn, over a queue of 128; split over 4 processes, 50 each.
with_proc "/proc/sys/net/core/somaxconn=4096" -- -d 1 -c 10000 --connect-rate 5000
nowarn "listen queue"
with_proc "/proc/sys/net/core/somaxconn=128" -- -d 1 -c 500 --connect-rate 200000
want "cli_flood: warning: --connect-rate 200000 opens up to 200 connections at once (those due in a 1 ms loop turn), more than the server's listen queue holds (net.core.somaxconn 128): dropped SYNs are retried after 1 s; lower --connect-rate to 128000 or raise it (sysctl -w net.core.somaxconn=200)"
with_proc "/proc/sys/net/core/somaxconn=128" -- -d 1 -c 1000 -w 4 --connect-rate 200000
want "cli_flood: warning: --connect-rate 200000 opens up to 200 connections at once (those due in a 1 ms loop turn, over 4 processes), more than"
with_proc "/proc/sys/net/core/somaxconn=128" -- -d 1 -c 1000 -w 4 --connect-rate 120000
nowarn "listen queue"
# Descriptors left system-wide.
with_proc "/proc/sys/fs/file-nr=99000	0	100000" -- -d 1 -c 600
want "cli_flood: warning: 1000 descriptors left system-wide (fs.file-max 100000) for 600 connections and the server's side of them; raise fs.file-max"
with_proc "/proc/sys/fs/file-nr=1000	0	100000" -- -d 1 -c 600
nowarn "descriptors left"
# Kernel memory is fatal: 2 x 100,000 sockets at 5 KB against 500 MiB available.
with_proc "/proc/meminfo=MemAvailable:     512000 kB" -- -d 1 -c 100000 -w 8
expect_eq "exit status when kernel memory cannot hold the sockets" "$?" 1
want "cli_flood: 200000 sockets need about 976 MiB of kernel memory (5 KB each, the server's end included on loopback) but MemAvailable is 500 MiB; lower -c"
[ -s "$T/o" ] && fail "a refused run printed a report"
# --blocking asks for processes that RLIMIT_NPROC does not allow: fatal.
prlimit --nproc=10:10 "$CLI" -p 9 --blocking 20 -n 100 >"$T/o" 2>"$T/e"
expect_eq "exit status for --blocking 20 under RLIMIT_NPROC 10" "$?" 1
want "cli_flood: --blocking 20 needs as many processes but RLIMIT_NPROC allows 10 per user; lower --blocking or raise it (ulimit -u)"
# A run with no warning to give gives none.
with_proc "$reuse=2" "/proc/sys/net/core/somaxconn=4096" "/proc/sys/fs/file-nr=1000	0	100000" -- -n 10 -c 10
grep -q 'warning' "$T/e" && fail "warnings for a small run: $(cat "$T/e")"
echo ok
