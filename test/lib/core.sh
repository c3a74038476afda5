# core.sh: the shell functions the tests (lib.sh) and the measurement tools
# (tools/) share, so that a port, a median or CPU time means one thing in both.
# Sourcing it has no side effects; it is POSIX sh (the tools run under dash).

# start_line_port FILE: the port of the c10k start line in FILE ("listening on
# ADDR:PORT, ..."), or nothing before the server has printed it.
start_line_port() {
    sed -n 's/.*listening on .*:\([0-9][0-9]*\),.*/\1/p' "$1" 2>/dev/null
}

# wait_start_line FILE PID [SECONDS]: prints the port once FILE holds a start line
# (polling every 50 ms, up to SECONDS, default 10); status 1 if PID exits first or
# time runs out.
wait_start_line() {
    _i=$((${3:-10} * 20))
    while [ $_i -gt 0 ]; do
        _port=$(start_line_port "$1")
        [ -n "$_port" ] && { echo "$_port"; return 0; }
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05
        _i=$((_i - 1))
    done
    return 1
}

# wait_listen PORT [SECONDS]: until a socket listens on PORT (a server that prints
# no start line, such as a peer's); status 1 after SECONDS (default 10).
wait_listen() {
    _i=$((${2:-10} * 20))
    while [ $_i -gt 0 ]; do
        [ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ] && return 0
        sleep 0.05
        _i=$((_i - 1))
    done
    return 1
}

# free_port: a TCP port below the ephemeral range that nothing listens on, for a
# server that cannot be given port 0.
free_port() {
    for _p in $(od -An -N200 -tu2 /dev/urandom); do
        _p=$((20000 + _p % 12000))
        [ -z "$(ss -Htan "( sport = :$_p )" 2>/dev/null)" ] && { echo "$_p"; return 0; }
    done
    return 1
}

# median: the median of the numbers on stdin, one a line (the lower of the two
# middle ones for an even count; "nan" for none).
median() {
    sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "nan") }'
}

# cpu_ticks PID: user + system CPU time of a process and its reaped children, in
# clock ticks (getconf CLK_TCK a second), from /proc/PID/stat.
cpu_ticks() {
    # Field 2 (comm) may hold spaces; count from after its closing parenthesis.
    sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 + $14 + $15 }'
}

# signal_wait PID [SIGNAL]: sends SIGNAL (TERM) and waits up to 5 s for PID to
# exit; status 1 if it is still running.
signal_wait() {
    kill -"${2:-TERM}" "$1" 2>/dev/null
    for _ in $(seq 100); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.05
    done
    return 1
}

# programs KIND [CAPABILITY]: the programs of KIND (server or client), one a line,
# from the build's programs.txt ($C10K_PROGRAMS), which srv/CMakeLists.txt's
# declarations write; "programs server WORKERS": only those with that capability.
programs() {
    [ -f "${C10K_PROGRAMS:-}" ] ||
        { echo "programs: no programs.txt (C10K_PROGRAMS='${C10K_PROGRAMS:-}'): build first (make)" >&2; return 1; }
    awk -v kind="$1" -v cap="${2:-}" '$2 == kind {
        ok = (cap == ""); for (i = 3; i <= NF; i++) if ($i == cap) ok = 1
        if (ok) print $1 }' "$C10K_PROGRAMS"
}

# need_built TOOL DIR PROGRAM...: exits 1, saying so, unless every PROGRAM is
# built in DIR. need_tools TOOL COMMAND...: the same for commands on PATH.
need_built() {
    _tool=$1 _dir=$2
    shift 2
    for _p; do
        [ -x "$_dir/$_p" ] || { echo "$_tool: $_dir/$_p is not built: run make first" >&2; exit 1; }
    done
}
need_tools() {
    _tool=$1
    shift
    for _c; do
        command -v "$_c" >/dev/null ||
            { echo "$_tool: $_c is needed (apt-get install $_c)" >&2; exit 1; }
    done
}
