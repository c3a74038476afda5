# Every program: -h prints usage on stdout and exits 0; bad usage exits 2 with the
# usage on stderr and a reason naming the option.
. "$(dirname "$0")/../../lib/lib.sh"
prog=$1
name=$(basename "$prog")
"$prog" -h >"$T/h.out" 2>"$T/h.err" || fail "-h exit status $?"
grep -q "^usage: $name " "$T/h.out" || fail "-h prints no usage on stdout: $(cat "$T/h.out")"
[ -s "$T/h.err" ] && fail "-h wrote to stderr: $(cat "$T/h.err")"
"$prog" -Z >"$T/o" 2>"$T/e"; rc=$?
expect_eq "unknown option exit status" "$rc" 2
grep -q "^usage: $name " "$T/e" || fail "no usage on stderr for a bad option"
[ -s "$T/o" ] && fail "bad usage wrote to stdout"
case $name in
srv_*) "$prog" 99999 2>"$T/e"; rc=$?; want='port is too large: 99999' ;;
cli_*) "$prog" -n 0 2>"$T/e"; rc=$?; want='number of requests is too small: 0' ;;
esac
expect_eq "bad number exit status" "$rc" 2
grep -q "$name: $want" "$T/e" || fail "bad number message: $(cat "$T/e")"
"$prog" -a not.an.address 2>"$T/e"; rc=$?
expect_eq "bad address exit status" "$rc" 2
grep -q "not a numeric IPv4 or IPv6 address" "$T/e" || fail "bad address message: $(cat "$T/e")"
echo ok
