# The progress line appears once a second on a terminal and never on a pipe or file.
. "$(dirname "$0")/../../lib/lib.sh"
need_tool script bsdutils
start_server
script -qec "$CLI -p $PORT -d 3 -c 10 2>&1 >/dev/null" /dev/null >"$T/tty.out" </dev/null ||
    fail "run on a terminal: exit status $?"
n=$(tr '\r' '\n' <"$T/tty.out" | grep -c 'connected 10  in flight')
[ "$n" -ge 2 ] || fail "want 2+ progress lines on a terminal, got $n: $(cat -v "$T/tty.out")"
grep -q 'errors 0  rate [0-9]*/s' "$T/tty.out" || fail "progress line: $(cat -v "$T/tty.out")"
# (Pre-flight warnings may go there: they are lines of their own, never redrawn.)
"$CLI" -p "$PORT" -d 2 -c 10 2>&1 >/dev/null | cat >"$T/pipe.out"
grep -q -e 'in flight' -e $'\r' "$T/pipe.out" && fail "stderr on a pipe got: $(cat -v "$T/pipe.out")"
"$CLI" -p "$PORT" -n 100 2>"$T/file.out" >/dev/null || fail "one-shot run: $?"
grep -q -e 'in flight' -e $'\r' "$T/file.out" && fail "stderr to a file got: $(cat -v "$T/file.out")"
echo "ok: $n progress lines"
