# cli_flood's --http, -H, --send, --expect and --until refuse bad input with exit
# status 2 and a message that names the problem, before any connection is made.
. "$(dirname "$0")/../../lib/lib.sh"
: >"$T/empty"
printf 'PING\r\n' >"$T/ping"
# bad WANT_MESSAGE ARGS...: exit status 2, the message on stderr.
bad() {
    local want=$1
    shift
    timeout 10 "$CLI" -p 1 "$@" >"$T/o" 2>"$T/e"
    rc=$?
    expect_eq "$* exit status ($(cat "$T/e"))" $rc 2
    grep -qF -- "$want" "$T/e" || fail "$*: the message does not say '$want': $(cat "$T/e")"
}
bad "--send: no bytes: name at least one" --send ''
bad "--send: unknown escape \\q at byte 4" --send 'PING\q'
bad "--send: \\x at byte 0 needs two hex digits" --send '\x4'
bad "--send: a lone \\ at the end" --send 'PING\'
bad "--send: $T/missing: No such file or directory" --send "@$T/missing"
bad "--send: $T/empty: the file is empty" --send "@$T/empty"
bad "--expect frame the replies to --send" --expect '+PONG\r\n'
bad "--until frame the replies to --send" --until '\r\n'
bad "--expect and --until: one framing of the reply" --send 'PING\r\n' --expect a --until b
bad "--expect: unknown escape \\z at byte 0" --send 'PING\r\n' --expect '\z'
bad "--http and --send: one protocol a run" --http / --send 'PING\r\n'
bad "--http: the path must begin with /: index.html" --http index.html
bad "--http: the path has a space or control character at byte 2" --http '/a b'
bad "-H adds headers to --http requests" -H 'Accept: */*'
bad "-H wants 'Name: value': NoColon" --http / -H NoColon
bad "-l sizes the timestamp echo, not --http or --send" --http / -l 100
# A file's bytes go as they are, no escapes decoded: accepted (the run then fails
# to connect to port 1, exit 1, not 2).
timeout 10 "$CLI" -p 1 -n 1 --send "@$T/ping" --until '\n' >"$T/o" 2>"$T/e"
rc=$?
expect_eq "--send @file: exit status ($(cat "$T/e"))" $rc 1
grep -qF "each request PING%0D%0A" "$T/o" || fail "--send @file: the report does not show the file's bytes: $(cat "$T/o")"
echo ok
