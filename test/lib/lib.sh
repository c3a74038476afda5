# Shared by the shell tests. The caller's environment names the binaries:
# SERVER (a srv_* program), CLI (cli_flood), PEER (test/helpers/peer).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/core.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/c10k-test.XXXXXX")
SRV_PID=
SRV_SID=   # the server's session: it and every process it starts
PORT=
SRV_NETNS=
# Every random byte a test sends comes from one seed (test/helpers/peer.cpp reads
# PEER_SEED), so that fail() can name it and a rerun can replay it.
: "${PEER_SEED:=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
export PEER_SEED

cleanup() {
    local rc=$?
    if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
        kill -KILL "$SRV_PID" 2>/dev/null
        wait "$SRV_PID" 2>/dev/null
    fi
    # Children or workers, where there are any, whatever their process group.
    [ -n "$SRV_SID" ] && pkill -KILL -s "$SRV_SID" 2>/dev/null
    # A sanitizer report from any program fails the test, whatever the checks said:
    # every file a test wrote is looked at, whatever it named its stderr.
    if grep -r -l -E 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:|WARNING: ThreadSanitizer' "$T" 2>/dev/null; then
        grep -r -h -A12 -E 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:|WARNING: ThreadSanitizer' "$T" >&2
        rc=1
    fi
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT

# fail MESSAGE: the test fails, and says what it saw, so that a failure seen once
# in CI can be read from the log alone: the port, the seed of any random bytes,
# the client's last report and stderr (the newest *.json and *.err the test
# wrote), and the tail of the server's output (stopped first: its statistics).
fail() {
    echo "FAIL: $*" >&2
    # A running server's statistics often say why: stop it so it prints them.
    if [ -n "$SRV_PID" ] && kill -TERM "$SRV_PID" 2>/dev/null; then
        for _ in $(seq 40); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.05; done
    fi
    {
        echo "--- port ${PORT:-(none)}, seed PEER_SEED=$PEER_SEED${SERVER:+, server $SERVER}"
        local f
        f=$(newest "$T"/*.json "$T"/*.jsonl)
        if [ -n "$f" ]; then
            echo "--- the client's last report ($f, the newest)"
            if [ "$(wc -c <"$f")" -le 8000 ]; then cat "$f"; else head -c 4000 "$f"; echo " [...]"; tail -c 3000 "$f"; fi
        fi
        f=$(newest $(ls "$T"/*.err 2>/dev/null | grep -v '/srv\.err$'))
        [ -n "$f" ] && { echo "--- a client's stderr ($f, the newest not empty)"; tail -20 "$f"; }
        [ -s "$T/srv.out" ] && { echo "--- server stdout (tail)"; tail -20 "$T/srv.out"; }
        [ -s "$T/srv.err" ] && { echo "--- server stderr (tail)"; tail -20 "$T/srv.err"; }
    } >&2
    exit 1
}

# newest FILE...: the most recently written of the files that exist and are not empty.
newest() {
    local f
    [ $# -gt 0 ] || return 0
    for f in $(ls -t "$@" 2>/dev/null); do [ -s "$f" ] && { echo "$f"; return; }; done
}

skip() {
    echo "SKIP: $*"
    exit 77
}

# need_tool COMMAND PACKAGE: skip without it, but fail under CI=true, where
# test/deps.sh has installed every tool the suite uses.
need_tool() {
    command -v "$1" >/dev/null 2>&1 && return 0
    [ "${CI:-}" = true ] && fail "$1 is missing under CI: test/deps.sh installs $2"
    skip "$1 is not installed (apt-get install $2)"
}

# start_server [args...]: starts $SERVER on a port the kernel picks, in a session
# of its own (SRV_SID, which holds every process it starts), waits for its start
# line (printed once it listens) and sets PORT. With SRV_NETNS set, the server
# runs in that network namespace (ip netns exec execs, so SRV_PID is still the server).
# With SRV_NOFILE set, it runs under `ulimit -n $SRV_NOFILE` (soft and hard; the
# subshell execs, so SRV_PID is the server). With SRV_INHERIT=N, it starts with
# exactly N descriptors open past stdio, 3 to N + 2 (not with SRV_NETNS).
start_server() {
    # One server at a time: a second would orphan the first, which cleanup would
    # then never kill.
    if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
        fail "start_server: server $SRV_PID is still running; stop it first"
    fi
    # Empty the files here: the background job's own redirection may come too late,
    # and a previous server's start line would give a port before this one listens.
    : >"$T/srv.out"
    : >"$T/srv.err"
    if [ -n "${SRV_INHERIT:-}" ]; then
        # Every descriptor past stdio closed (CTest's log, the load lock), then
        # SRV_INHERIT of them opened: 3 to SRV_INHERIT + 2, on /dev/null.
        (for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
         for fd in $(seq 3 $((SRV_INHERIT + 2))); do eval "exec $fd</dev/null"; done
         ulimit -n "${SRV_NOFILE:-$(ulimit -n)}" && exec setsid "$SERVER" "$@" 0) >"$T/srv.out" 2>"$T/srv.err" &
    elif [ -n "${SRV_NOFILE:-}" ]; then
        (ulimit -n "$SRV_NOFILE" && exec setsid ${SRV_NETNS:+ip netns exec "$SRV_NETNS"} "$SERVER" "$@" 0) \
            >"$T/srv.out" 2>"$T/srv.err" &
    else
        # setsid execs (a background job of a script leads no process group), so
        # $! is the server.
        setsid ${SRV_NETNS:+ip netns exec "$SRV_NETNS"} "$SERVER" "$@" 0 >"$T/srv.out" 2>"$T/srv.err" &
    fi
    SRV_PID=$!
    SRV_SID=$SRV_PID
    PORT=$(wait_start_line "$T/srv.out" "$SRV_PID") && return 0
    if ! kill -0 "$SRV_PID" 2>/dev/null; then
        # srv_uring where the kernel or a policy forbids io_uring: skip, saying why.
        grep -q 'io_uring_setup: ' "$T/srv.err" && skip "$(cat "$T/srv.err")"
        fail "server exited at start"
    fi
    fail "server did not print its start line within 10 s"
}

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 50 ms until it succeeds;
# fails the test, naming WHAT, if it has not within SECONDS (with what COMMAND last
# wrote to $T/why, if anything). Use it instead of a fixed sleep: a sleep is too
# short on a loaded machine and too long on an idle one.
wait_for() {
    local secs=$1 what=$2 i
    shift 2
    rm -f "$T/why"
    for ((i = 0; i < secs * 20; i++)); do
        "$@" && return 0
        sleep 0.05
    done
    fail "$what: not within $secs s${T:+$([ -s "$T/why" ] && echo ": $(head -c 300 "$T/why")")}"
}

# server_strategy: the strategy the running server's start line names, such as
# "fork (a process per connection; ...". Tests ask it what a server does rather
# than naming servers.
server_strategy() {
    sed -n 's/.*, strategy \(.*\), up to .*/\1/p' "$T/srv.out"
}

# accepted_now: connections the server has accepted: established on $PORT, less
# those still in its listen queue.
accepted_now() {
    local est queued
    est=$(ss -Htn state established "( sport = :$PORT )" 2>/dev/null | wc -l)
    queued=$(ss -Hltn "( sport = :$PORT )" 2>/dev/null | awk '{ q += $2 } END { print q + 0 }')
    echo $((est - queued))
}

# session_left: the processes still in the server's session, one "pid stat args" a line.
session_left() {
    ps -s "$SRV_SID" -o pid=,stat=,args= 2>/dev/null
}

# stop_server [signal]: signals the server, waits up to 5 s, returns its exit status.
stop_server() {
    signal_wait "$SRV_PID" "${1:-TERM}" || fail "server still running 5 s after SIG${1:-TERM}"
    wait "$SRV_PID"
    local rc=$?
    SRV_PID=
    return $rc
}

# as_nobody NPROC: from now on start_server runs $SERVER as nobody under
# RLIMIT_NPROC NPROC (which counts that user's processes and threads). Skips, saying
# why, where that cannot be done.
as_nobody() {
    [ "$(id -u)" = 0 ] || skip "needs root to run the server as nobody"
    need_tool setpriv util-linux
    need_tool prlimit util-linux
    setpriv --reuid=nobody --regid=nogroup --clear-groups true 2>/dev/null || skip "setpriv cannot switch to nobody here"
    [ "$(pgrep -c -u nobody)" = 0 ] || skip "nobody already runs processes, which RLIMIT_NPROC would count"
    printf '#!/bin/sh\nexec prlimit --nproc=%s setpriv --reuid=nobody --regid=nogroup --clear-groups %s "$@"\n' \
        "$1" "$SERVER" >"$T/as-nobody"
    chmod 755 "$T/as-nobody" "$T"
    SERVER=$T/as-nobody
}

# json_num KEY FILE: the number after "KEY": (first match) in a one-line JSON report.
json_num() {
    grep -o "\"$1\":[0-9.]*" "$2" | head -1 | cut -d: -f2
}

# stat_num KEY: a counter from the server's "stats" line.
stat_num() {
    sed -n "s/.*stats.* $1=\([0-9]*\).*/\1/p" "$T/srv.out"
}

# expect_json KEY WANT: KEY of the last report (flood's $T/report.json) is WANT.
expect_json() {
    expect_eq "$1" "$(json_num "$1" "$T/report.json")" "$2"
}

# expect_bufs_back: where the server counts the buffers it lends the kernel
# (srv_uring's provided buffers, bufs_in_use on its stats line), every one is back
# once all connections have closed; a server without the counter has nothing to say.
expect_bufs_back() {
    local n
    n=$(stat_num bufs_in_use)
    [ -z "$n" ] || expect_eq "provided buffers not back in the ring at the stop (bufs_in_use)" "$n" 0
}

expect_eq() {  # expect_eq WHAT GOT WANT
    [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# flood ARGS...: runs cli_flood --json against the server into $T/report.json.
flood() {
    "$CLI" -p "$PORT" --json "$@" >"$T/report.json" 2>"$T/cli.err"
    CLI_RC=$?
    cat "$T/report.json"
}

# load_lock: tests that open thousands of sockets take a machine-wide lock, so that
# two test runs (or a benchmark) never compete for ports, descriptors and tcp_mem.
load_lock() {
    exec 9>"${TMPDIR:-/tmp}/c10k-load.lock"
    flock -w 600 9 || fail "waited 10 minutes for the load lock"
}

# rss_kb PID: resident set size in KiB.
rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# expect_le WHAT GOT MAX
expect_le() {
    [ "$2" -le "$3" ] || fail "$1: got $2, want at most $3"
}

# peer_num KEY FILE: a number from a peer's "key=N" output.
peer_num() {
    grep -o "$1=[0-9.]*" "$2" | tail -1 | cut -d= -f2
}

# A test CMake declares LOAD (C10K_LOAD=1) holds the load lock from here on.
if [ "${C10K_LOAD:-}" = 1 ]; then load_lock; fi
