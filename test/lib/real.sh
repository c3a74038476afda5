# real.sh: the servers users bring (nginx, Redis, memcached), started as the
# project's servers are: in a session of their own (SRV_PID, SRV_SID, so lib.sh's
# cleanup kills them), on a free port (PORT), with any configuration in the test's
# directory, stopped by PID. Under CI=true a missing server fails (need_tool).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/hgrm_lib.sh"

# start_real COMMAND...: runs it (with @PORT@ in its arguments as the port) and
# waits up to 10 s for the port to listen.
start_real() {
    local args=() a
    PORT=$(free_port) || fail "no free port"
    for a in "$@"; do args+=("${a//@PORT@/$PORT}"); done
    : >"$T/srv.out"
    : >"$T/srv.err"
    setsid "${args[@]}" >"$T/srv.out" 2>"$T/srv.err" &
    SRV_PID=$!
    SRV_SID=$SRV_PID
    wait_listen "$PORT" 10 || fail "$1 did not listen on $PORT within 10 s: $(tail -3 "$T/srv.err")"
}

# nginx_conf [LINES]: $T/ng/nginx.conf for one worker on 127.0.0.1:$PORT, with LINES
# in its server block; @PORT@ as start_real. Everything it writes stays in $T/ng.
nginx_conf() {
    write_nginx_conf "$T/ng" @PORT@ "${NGINX_WORKERS:-1}" 10000 "" "${1:-}"
}

# start_nginx: nginx with $T/ng/nginx.conf; PORT is chosen first, written in.
start_nginx() {
    need_tool nginx nginx-light
    PORT=$(free_port) || fail "no free port"
    sed -i "s/@PORT@/$PORT/" "$T/ng/nginx.conf"
    : >"$T/srv.err"
    setsid nginx -p "$T/ng" -c "$T/ng/nginx.conf" -g 'daemon off;' >"$T/srv.out" 2>"$T/srv.err" &
    SRV_PID=$!
    SRV_SID=$SRV_PID
    wait_listen "$PORT" 10 || fail "nginx did not listen on $PORT: $(tail -3 "$T/srv.err" "$T/ng/logs/error.log")"
}

# causes_only WHAT FILE CAUSE=N...: every failure cause in report FILE is 0 but
# those named, which are N.
causes_only() {
    local what=$1 f=$2 c want pair
    shift 2
    for c in refused connect_timeout reset read_timeout closed_early mismatch no_ports \
             no_descriptors other interrupted http_status; do
        want=0
        for pair in "$@"; do [ "${pair%%=*}" = "$c" ] && want=${pair#*=}; done
        expect_eq "$what: $c ($(cat "$f"))" "$(jq ".failures.$c" "$f")" "$want"
    done
}

# exact WHAT FILE RC WANT: exit status 0, WANT requests all succeeded, no cause counted.
exact() {
    [ "$3" = 0 ] || fail "$1: exit status $3: $(cat "$2" "$T/cli.err")"
    expect_eq "$1: requests ($(cat "$2"))" "$(jq .requests "$2")" "$4"
    expect_eq "$1: succeeded ($(cat "$2"))" "$(jq .succeeded "$2")" "$4"
    causes_only "$1" "$2"
}
