#!/bin/sh
# versus.sh [-n pairs] [-d seconds] [-c connections] [nginx] [redis]: cli_flood side
# by side with the tools users run today, closed loop, on the same server:
#   nginx: wrk -t1 -c C -dDs against one nginx worker, location / { return 200 "ok\n"; }
#          and cli_flood --http / -d D -c C;
#   redis: redis-benchmark -c C -t ping_inline against redis-server
#          and cli_flood --send 'PING\r\n' --expect '+PONG\r\n' -d D -c C.
# Server on core 0, client on core 1; the pairs interleaved (tool, cli_flood, tool,
# ...); medians. Client CPU a request is the client's user + system time (GNU time)
# over the requests it completed. Takes the machine's load lock. Needs nginx,
# redis-server, wrk and redis-benchmark (test/deps.sh); CLI names cli_flood
# (default build/cli_flood).
set -u
. "$(dirname "$0")/../lib/core.sh"
CLI=${CLI:-build/cli_flood}
pairs=3 secs=5 conns=1000
while getopts n:d:c: o; do
    case $o in
    n) pairs=$OPTARG ;; d) secs=$OPTARG ;; c) conns=$OPTARG ;;
    *) echo "usage: versus.sh [-n pairs] [-d seconds] [-c connections] [nginx] [redis]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- nginx redis
need_tools versus jq taskset /usr/bin/time
for what in "$@"; do
    case $what in
    nginx) need_tools versus nginx wrk ;;
    redis) need_tools versus redis-server redis-benchmark ;;
    esac
done
[ -x "$CLI" ] || { echo "versus: $CLI is not built: run make first" >&2; exit 1; }
W=$(mktemp -d /tmp/c10k-versus.XXXXXX)
SRV=
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$W"' EXIT
exec 9>/tmp/c10k-load.lock
flock 9

start() {  # start PORT COMMAND...: the server on core 0, until PORT listens
    _port=$1
    shift
    taskset -c 0 "$@" >"$W/srv.out" 2>&1 &
    SRV=$!
    wait_listen "$_port" 10 || { echo "versus: $1 did not listen: $(tail -3 "$W/srv.out")" >&2; exit 1; }
}
stop() { kill "$SRV"; wait "$SRV" 2>/dev/null; SRV=; }

# timed NAME COMMAND...: runs it on core 1 under GNU time; its output in $W/NAME.out,
# its "user sys" seconds in $W/NAME.time.
timed() {
    _n=$1
    shift
    /usr/bin/time -f "%U %S" -o "$W/$_n.time" taskset -c 1 "$@" >"$W/$_n.out" 2>"$W/$_n.err"
}
cpu_us() {  # cpu_us NAME REQUESTS: client CPU a request, us
    awk -v n="$2" '{ printf "%.2f\n", (n > 0 ? ($1 + $2) * 1e6 / n : 0) }' "$W/$1.time"
}
cli_run() {  # cli_run ARGS...: one cli_flood run; "rate cpu_us" on stdout
    timed cli "$CLI" --json -d "$secs" -c "$conns" -t 10 "$@"
    _ok=$(jq .succeeded "$W/cli.out")
    [ "$(jq .failed "$W/cli.out")" = 0 ] && [ "$(jq .dropped "$W/cli.out")" = 0 ] ||
        echo "versus: cli_flood lost requests: $(head -c 400 "$W/cli.out")" >&2
    echo "$(jq .requests_per_s "$W/cli.out") $(cpu_us cli "$_ok")"
}

# table NAME TOOL: medians of $W/NAME.tool and $W/NAME.cli ("rate cpu_us" lines).
table() {
    tr=$(cut -d' ' -f1 "$W/$1.tool" | median) tc=$(cut -d' ' -f2 "$W/$1.tool" | median)
    cr=$(cut -d' ' -f1 "$W/$1.cli" | median) cc=$(cut -d' ' -f2 "$W/$1.cli" | median)
    printf '%-8s %-16s %12.0f req/s %8.2f us CPU/req\n' "$1" "$2" "$tr" "$tc"
    printf '%-8s %-16s %12.0f req/s %8.2f us CPU/req   (x%.2f the rate, x%.2f the CPU)\n' \
        "$1" cli_flood "$cr" "$cc" "$(echo "$cr $tr" | awk '{ print $1 / $2 }')" \
        "$(echo "$cc $tc" | awk '{ print $1 / $2 }')"
}

for what in "$@"; do
    case $what in
    nginx)
        port=$(free_port)
        write_nginx_conf "$W/ng" "$port" 1 20000 'keepalive_requests 1000000000;' \
            'location / { return 200 "ok\n"; }'
worker_processes 1;
worker_rlimit_nofile 20000;
error_log $W/ng/logs/error.log;
pid $W/ng/nginx.pid;
events { worker_connections 20000; }
http {
    access_log off;
    keepalive_requests 1000000000;
    client_body_temp_path $W/ng/tmp; proxy_temp_path $W/ng/tmp; fastcgi_temp_path $W/ng/tmp;
    uwsgi_temp_path $W/ng/tmp; scgi_temp_path $W/ng/tmp;
    server { listen 127.0.0.1:$port; location / { return 200 "ok\n"; } }
}
CONF
        start "$port" nginx -p "$W/ng" -c "$W/ng/nginx.conf" -g 'daemon off;'
        : >"$W/nginx.tool"; : >"$W/nginx.cli"
        for i in $(seq "$pairs"); do
            timed wrk wrk -t1 -c"$conns" -d"${secs}s" "http://127.0.0.1:$port/"
            n=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$W/wrk.out")
            rate=$(sed -n 's/^Requests\/sec: *//p' "$W/wrk.out")
            grep -q 'Socket errors' "$W/wrk.out" && echo "versus: wrk: $(grep 'Socket errors' "$W/wrk.out")" >&2
            echo "$rate $(cpu_us wrk "$n")" >>"$W/nginx.tool"
            cli_run -p "$port" --http / >>"$W/nginx.cli"
            echo "nginx pair $i: wrk $(tail -1 "$W/nginx.tool"), cli_flood $(tail -1 "$W/nginx.cli")" >&2
        done
        stop
        table nginx "wrk -t1"
        ;;
    redis)
        port=$(free_port)
        start "$port" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --protected-mode no --maxclients 19000
        : >"$W/redis.tool"; : >"$W/redis.cli"
        for i in $(seq "$pairs"); do
            # As many requests as the last cli_flood run made in its window, or
            # 400,000: about the same length of run.
            n=400000
            [ -s "$W/redis.cli" ] && n=$(tail -1 "$W/redis.cli" | awk -v s="$secs" '{ printf "%.0f", $1 * s }')
            timed rb redis-benchmark -p "$port" -c "$conns" -n "$n" -t ping_inline -q
            rate=$(tr '\r' '\n' <"$W/rb.out" | sed -n 's/^PING_INLINE: \([0-9.]*\) requests per second.*/\1/p' | tail -1)
            echo "$rate $(cpu_us rb "$n")" >>"$W/redis.tool"
            cli_run -p "$port" --send 'PING\r\n' --expect '+PONG\r\n' >>"$W/redis.cli"
            echo "redis pair $i: redis-benchmark $(tail -1 "$W/redis.tool"), cli_flood $(tail -1 "$W/redis.cli")" >&2
        done
        stop
        table redis redis-benchmark
        ;;
    *) echo "versus: what is $what? nginx or redis" >&2; exit 2 ;;
    esac
done
