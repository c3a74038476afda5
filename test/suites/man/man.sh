# man_options.sh PROG PAGE: the page and the program agree on their options.
#  1. The rendered SYNOPSIS says what `PROG -h` says, word for word (line breaks aside).
#  2. Every option in the usage has an entry in DESCRIPTION's option list, and
#     every entry there is in the usage.
#  3. Every option the page documents is accepted by the program, with an argument
#     exactly when the page gives it one: `PROG -x VALUE -Z` must get as far as
#     rejecting -Z, and `PROG -x` alone must complain that -x needs an argument.
# VALUE is 127.0.0.1 for an argument named like an address, 1 for anything else;
# an option whose argument cannot be 1 needs a case in value_for below.
. "$(dirname "$0")/../../lib/lib.sh"
prog=$1 page=$2
name=$(basename "$prog")
export LC_ALL=C  # getopt's messages in English
need_tool groff groff-base
[ -f "$page" ] || fail "$name has no manual page: $page (every program the build declares needs one)"

# Prints a synopsis or usage as one line of words.
words() { tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//'; }

# Each option of a synopsis, once, one per line: "-x", "-x arg", "--long", "--long arg".
# Reads "[-hq] [-a addr] [--json] [--rate=n] [port]"; bracket groups hold one option
# and its argument; [-hq] is a group of flags. An option outside brackets selects a
# mode ("prog -d secs [-v] ...", "prog --merge [-v] file ..."): the word after it is
# its argument unless it is bracketed, an option, or an operand (followed by "...").
# An option in several modes is listed once, with the first argument name it has.
options_of() {
    local text
    text=$(cat)
    {
        echo "$text" | grep -o '\[-[^]]*\]' | tr -d '[]' | sed 's/=/ /'
        echo "$text" | tr ' ' '\n' | awk '
            { w[NR] = $0 }
            END {
                for (i = 1; i <= NR; i++) {
                    if (w[i] !~ /^--?[A-Za-z0-9]/) continue
                    split(w[i], kv, "=")
                    if (kv[2] != "") { print kv[1], kv[2]; continue }
                    a = w[i + 1]
                    if (a != "" && a !~ /^[-[]/ && w[i + 2] != "..." && a !~ /\.\.\.$/) print w[i], a
                    else print w[i]
                }
            }'
    } | while read -r opt arg; do
        case $opt in
        --*) echo "$opt${arg:+ $arg}" ;;
        -?) echo "$opt${arg:+ $arg}" ;;
        -*) [ -z "$arg" ] || { echo "BAD $opt $arg"; continue; }
            for l in $(echo "${opt#-}" | fold -w1); do echo "-$l"; done ;;
        esac
    done | first_of_each
}

# Keeps the first line for each option (the first word), then sorts.
first_of_each() { awk '!seen[$1]++' | sort; }

# "-x arg" as "-x ARG": the lists are compared on options and whether they take an
# argument, not on the argument's name, which may differ between modes.
keys() { sed 's/ .*/ ARG/' "$1" | sort; }

"$prog" -h >"$T/usage" 2>&1 || fail "$name -h: exit status $?"
usage=$(sed "1s/^usage: $name //" "$T/usage" | words)
[ -n "$usage" ] || fail "$name -h printed no usage"

groff -mdoc -Tascii -P-cbou -rLL=500n "$page" >"$T/page.txt" 2>"$T/groff.err" ||
    fail "groff failed on $page: $(cat "$T/groff.err")"
# The SYNOPSIS section: its lines up to the next heading, without the leading name.
synopsis=$(sed -n '/^SYNOPSIS$/,/^[A-Z]/{/^[A-Z]/d;p}' "$T/page.txt" | words)
synopsis=${synopsis#"$name "}
[ "$synopsis" = "$usage" ] || fail "SYNOPSIS of $page and $name -h differ:
  page:  $synopsis
  usage: $usage"

# DESCRIPTION's option list in the source: ".It Fl a Ar addr", ".It Fl -json".
sed -n '/^\.Sh DESCRIPTION/,/^\.Sh /p' "$page" |
    sed -n 's/^\.It Fl \(.*\)$/-\1/p' | sed 's/ Ar / /; s/ Ns = Ns / /' | first_of_each >"$T/described"
echo "$usage" | options_of >"$T/usage.opts"
grep -q '^BAD' "$T/usage.opts" && fail "cannot read the usage: $(grep '^BAD' "$T/usage.opts")"
missing=$(comm -23 <(keys "$T/usage.opts") <(keys "$T/described"))
[ -z "$missing" ] || fail "$page: options in $name -h with no entry (.It Fl) in DESCRIPTION:
$missing"
extra=$(comm -13 <(keys "$T/usage.opts") <(keys "$T/described"))
[ -z "$extra" ] || fail "$page: DESCRIPTION documents options $name -h does not show:
$extra"

value_for() {
    case $1 in
    *addr* | *host* | sources) echo 127.0.0.1 ;;
    bytes) echo 100 ;;  # cli_flood -l: at least 16
    *) echo 1 ;;
    esac
}

# Runs the program bounded in time; it must exit on its own (usage error or -h).
run() {
    timeout 10 "$prog" "$@" >"$T/o" 2>"$T/e"
    rc=$?
    [ $rc -eq 124 ] && fail "$name $*: still running after 10 s (it should have stopped at -Z)"
    return 0
}

cat "$T/usage.opts" "$T/described" | first_of_each | while read -r opt arg; do
    if [ "$opt" = -h ] || [ "$opt" = --help ]; then
        run "$opt" -Z
        expect_eq "$name $opt exit status" "$rc" 0
        grep -q "^usage: $name " "$T/o" || fail "$name $opt: no usage on stdout"
        continue
    fi
    if [ -n "$arg" ]; then
        val=$(value_for "$arg")
        run "$opt" "$val" -Z
        grep -q "invalid option -- 'Z'" "$T/e" ||
            fail "$name $opt $val -Z: did not accept $opt $val: $(head -2 "$T/e")"
        run "$opt"
        grep -q "requires an argument" "$T/e" ||
            fail "$name $opt: the page says it takes an argument, but: $(head -2 "$T/e")"
    else
        run "$opt" -Z
        grep -q "invalid option -- 'Z'" "$T/e" ||
            fail "$name $opt -Z: did not accept $opt alone: $(head -2 "$T/e")"
    fi
    expect_eq "$name $opt ... -Z exit status" "$rc" 2
done || exit 1
echo "ok: $(wc -l <"$T/usage.opts") options agree between $name -h and $page"
