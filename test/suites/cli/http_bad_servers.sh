# cli_flood --http against broken HTTP servers (test/helpers/badsrv http=KIND): each
# fault is counted under its one cause, every other cause 0, in one-shot, held
# (-d -R) and --blocking runs; exit status 1 for a fault, 0 for none.
#   malformed status line: mismatch     body short of Content-Length, close: closed_early
#   headers past 64 KiB: mismatch       404: http_status, and counted as 4xx
#   chunked in 3-byte writes (cut in chunk-size lines): every request succeeds
#   100 MiB bodies: succeed, with the client's peak RSS no more than a small body's + 4 MiB
. "$(dirname "$0")/../../lib/lib.sh"
need_tool jq jq
SERVER=$BADSRV
CAUSES="refused connect_timeout reset read_timeout closed_early mismatch no_ports
        no_descriptors other interrupted http_status"

# check WHAT RC WANT_RC SUCCEEDED CAUSE=N...: the report in $T/r.json.
check() {
    local what=$1 rc=$2 want_rc=$3 ok=$4 c want pair
    shift 4
    [ "$rc" = "$want_rc" ] || fail "$what: exit status $rc, want $want_rc: $(cat "$T/r.json" "$T/cli.err")"
    expect_eq "$what: succeeded ($(cat "$T/r.json"))" "$(jq .succeeded "$T/r.json")" "$ok"
    for c in $CAUSES; do
        want=0
        for pair in "$@"; do [ "${pair%%=*}" = "$c" ] && want=${pair#*=}; done
        expect_eq "$what: $c ($(jq -c .failures "$T/r.json"))" "$(jq ".failures.$c" "$T/r.json")" "$want"
    done
}

run() { timeout 20 "$CLI" -p "$PORT" --http / --json -t 2 "$@" >"$T/r.json" 2>"$T/cli.err"; }

while read -r kind ok causes; do
    start_server "http=$kind"
    run -n 20 -c 4 -r 5; check "$kind, one-shot" $? $([ "$ok" = 20 ] && echo 0 || echo 1) "$ok" $causes
    run --blocking 2 -n 10 -r 5
    check "$kind, --blocking" $? $([ "$ok" = 20 ] && echo 0 || echo 1) $((ok / 2)) \
        $(for p in $causes; do echo "${p%%=*}=$((${p#*=} / 2))"; done)
    stop_server KILL
done <<'LIST'
malformed 0 mismatch=20
short 0 closed_early=20
bighead 0 mismatch=20
notfound 0 http_status=20
chunked 20
LIST

start_server http=notfound
run -n 20 -c 4 -r 5
expect_eq "404: 4xx counted ($(cat "$T/r.json"))" "$(jq -c .http_classes "$T/r.json")" \
    '{"2xx":0,"3xx":0,"4xx":20,"5xx":0}'
stop_server KILL

# Held: 4 connections, 20 requests at 20/s over 1 s, each answer in 3-byte pieces.
start_server http=chunked
run -c 4 -d 1 -R 20; check "chunked, held -R" $? 0 20
expect_eq "chunked, held: connections held" "$(jq .connections_held "$T/r.json")" 4
stop_server KILL

# 100 MiB bodies: the same peak RSS as 3-byte pieces of a small one, give or take 4 MiB.
need_tool /usr/bin/time time
start_server http=chunked
/usr/bin/time -f %M -o "$T/small.rss" "$CLI" -p "$PORT" --http / --json -n 2 -c 1 -r 2 >"$T/r.json" 2>"$T/cli.err"
check "small body, for the RSS" $? 0 2
stop_server KILL
start_server http=big
/usr/bin/time -f %M -o "$T/big.rss" timeout 30 "$CLI" -p "$PORT" --http / --json -n 4 -c 2 -r 2 -t 10 \
    >"$T/r.json" 2>"$T/cli.err"
check "100 MiB bodies" $? 0 4
expect_le "100 MiB bodies: bytes received" $((4 * 104857600)) "$(jq .bytes_received "$T/r.json")"
small=$(tail -1 "$T/small.rss") big=$(tail -1 "$T/big.rss")
expect_le "peak RSS in KiB with 100 MiB bodies (a small body: $small)" "$big" $((small + 4096))
echo "peak RSS: $small KiB for a small body, $big KiB for 100 MiB ones"
