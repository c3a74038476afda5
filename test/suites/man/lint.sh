# lint.sh MANDIR [C10K7]: every page in MANDIR (with C10K7, the build's c10k(7), in
# place of MANDIR's) renders without a warning and keeps the
# mdoc(7) conventions the project follows (OpenBSD's pages are the model):
#  - groff -ww -mdoc and man --warnings print nothing (and mandoc -Tlint, where installed),
#    and no rendered line is wider than 80 columns;
#  - .Dd, .Dt (the file's name and section) and .Os come first;
#  - .Dd is the date of the page's last change in git: its newest commit, or
#    today when it has changes not yet committed (outside a git checkout, such
#    as a tarball, a note says the dates went unchecked);
#  - the sections are in mdoc(7) order; a section 1 page has NAME, SYNOPSIS,
#    DESCRIPTION (with "The options are as follows:"), EXIT STATUS, EXAMPLES,
#    SEE ALSO and CAVEATS;
#  - SEE ALSO is sorted by section, then name, and every cross-reference to one of
#    the project's own pages names a page that exists;
#  - c10k(7) lists every program the build declares (programs.txt), every other
#    page names c10k(7), and a server's page leaves its siblings to c10k(7).
. "$(dirname "$0")/../../lib/lib.sh"
dir=$1
export LC_ALL=C.UTF-8 MANWIDTH=80
order="NAME|LIBRARY|SYNOPSIS|DESCRIPTION|CONTEXT|IMPLEMENTATION NOTES|RETURN VALUES|ENVIRONMENT|FILES|EXIT STATUS|EXAMPLES|DIAGNOSTICS|ERRORS|SEE ALSO|STANDARDS|HISTORY|AUTHORS|CAVEATS|BUGS"
errors=0
bad() { echo "FAIL: $page: $*" >&2; errors=$((errors + 1)); }

need_tool groff groff-base
have_man=
command -v man >/dev/null && have_man=1
pages=$(ls "$dir"/*.[1-9] 2>/dev/null)
[ -n "${2:-}" ] && pages=$(echo "$pages" | grep -v '/c10k\.7$'; echo "$2")
progs=$(programs server; programs client) || fail "no list of programs"
[ -n "$progs" ] || fail "programs.txt ($C10K_PROGRAMS) lists no programs"
[ -n "$pages" ] || fail "no manual pages in $dir"
have_mandoc=
command -v mandoc >/dev/null && have_mandoc=1

# The date of FILE's last change, as "YYYY-MM-DD why": today if it differs from
# HEAD (or is new), else its newest commit's. Merges do not count: a merge that brings
# in another branch's edit would otherwise date every page it touches to the
# merge. Prints nothing when git cannot tell: no checkout, an ignored file, or a
# shallow clone whose oldest commit is the newest that touched FILE.
git_date() {
    local f=$1 d c shallow
    d=$(dirname "$f") f=$(basename "$f")
    git -C "$d" rev-parse --is-inside-work-tree >/dev/null 2>&1 || return 0
    git -C "$d" check-ignore -q "$f" && return 0
    if ! git -C "$d" ls-files --error-unmatch "$f" >/dev/null 2>&1 ||
        ! git -C "$d" diff --quiet HEAD -- "$f" 2>/dev/null; then
        echo "$(date +%F) (uncommitted changes: today)"
        return 0
    fi
    c=$(git -C "$d" log -1 --no-merges --format='%H %cs %h' -- "$f")
    [ -n "$c" ] || return 0  # added by a merge alone
    shallow=$(git -C "$d" rev-parse --git-path shallow)
    case $shallow in /*) ;; *) shallow=$d/$shallow ;; esac
    [ -f "$shallow" ] && grep -qx "${c%% *}" "$shallow" && return 0
    set -- $c
    echo "$2 (commit $3)"
}
undated=
for page in $pages; do
    base=$(basename "$page")
    name=${base%.*} sect=${base##*.}

    groff -ww -mdoc -Tutf8 -z "$page" >"$T/out" 2>&1
    [ -s "$T/out" ] && bad "groff -ww warns: $(head -5 "$T/out")"
    if [ -n "$have_man" ]; then
        man --warnings -l "$page" >/dev/null 2>"$T/out"
        [ -s "$T/out" ] && bad "man --warnings warns: $(head -5 "$T/out")"
    fi
    # Nothing runs past an 80-column terminal (literal displays do not wrap).
    LC_ALL=C groff -mdoc -Tascii -P-cbou "$page" 2>/dev/null | awk -v max=80 'length($0) > max { print NR ": " $0 }' >"$T/out"
    [ -s "$T/out" ] && bad "lines wider than 80 columns: $(head -3 "$T/out")"
    if [ -n "$have_mandoc" ]; then
        mandoc -Tlint -Wwarning "$page" >"$T/out" 2>&1 || bad "mandoc -Tlint: $(head -5 "$T/out")"
    fi

    # The prologue: the first three macros.
    prologue=$(grep -v '^\.\\"' "$page" | grep '^\.' | head -3 | cut -c1-3 | tr '\n' ' ')
    [ "$prologue" = ".Dd .Dt .Os " ] || bad "prologue is '$prologue', want .Dd .Dt .Os"
    # The date is MANDIR's copy's (the build's c10k(7) is made from it).
    dd=$(sed -n 's/^\.Dd //p' "$page" | sed 's/^\$Mdocdate: //; s/ *\$$//; s/,//')
    dd_iso=$(date -d "$dd" +%F 2>/dev/null) || bad ".Dd '$dd' is not a date"
    changed=$(git_date "$dir/$base")
    if [ -z "$changed" ]; then
        undated="$undated $base"
    elif [ -n "$dd_iso" ] && [ "$dd_iso" != "${changed%% *}" ]; then
        bad ".Dd says $dd_iso, but the page last changed on $changed: make it" \
            "'.Dd \$Mdocdate: $(date -d "${changed%% *}" '+%B %-d %Y') \$'"
    fi
    dt=$(sed -n 's/^\.Dt //p' "$page")
    upper=$(echo "$name" | tr '[:lower:]' '[:upper:]')
    [ "$dt" = "$upper $sect" ] || bad ".Dt '$dt', want '$upper $sect'"
    grep -q "^\.Nm $name\$" "$page" || bad "NAME does not say .Nm $name"

    # Sections in mdoc(7) order, each at most once.
    sections=$(sed -n 's/^\.Sh //p' "$page")
    last=-1
    while read -r sh; do
        pos=$(echo "$order" | tr '|' '\n' | grep -nx "$sh" | cut -d: -f1)
        [ -n "$pos" ] || { bad "unknown section '$sh'"; continue; }
        [ "$pos" -gt "$last" ] || bad "section '$sh' out of mdoc(7) order"
        last=$pos
    done <<<"$sections"
    want="NAME DESCRIPTION SEE_ALSO"
    [ "$sect" = 1 ] && want="NAME SYNOPSIS DESCRIPTION EXIT_STATUS EXAMPLES SEE_ALSO CAVEATS"
    for sh in $want; do
        echo "$sections" | grep -qx "${sh//_/ }" || bad "no ${sh//_/ } section"
    done
    if [ "$sect" = 1 ] && grep -q '^\.Op Fl' "$page"; then
        grep -q '^The options are as follows:$' "$page" || bad "no 'The options are as follows:'"
    fi

    # SEE ALSO: ".Xr name sect ," lines, sorted by section, then name.
    sed -n '/^\.Sh SEE ALSO/,/^\.Sh /p' "$page" | sed -n 's/^\.Xr \([^ ]*\) \([0-9]\).*/\2 \1/p' \
        >"$T/xr"
    [ -s "$T/xr" ] || bad "SEE ALSO lists no pages"
    sort -c -k1,1n -k2,2 "$T/xr" 2>/dev/null ||
        bad "SEE ALSO is not sorted by section, then name: $(tr '\n' ',' <"$T/xr")"
    grep -qx "$sect $name" "$T/xr" && bad "SEE ALSO lists the page itself"
    # Our own pages, anywhere in the page, must exist.
    sed -n 's/.*\.Xr \(srv_[a-z0-9_]*\|cli_[a-z0-9_]*\|c10k\) \([0-9]\).*/\1.\2/p' "$page" | sort -u |
        while read -r ref; do
            [ -f "$dir/$ref" ] || echo "$ref"
        done >"$T/dangling"
    [ -s "$T/dangling" ] && bad "refers to pages that do not exist: $(tr '\n' ' ' <"$T/dangling")"
    # c10k(7) is the hub: its list of programs and its SEE ALSO name every program
    # the build declares, so a new strategy cannot be left out. Every other page
    # points to it, and a server's page names no sibling: adding a strategy edits
    # no other page.
    if [ "$name" = c10k ]; then
        for prog in $progs; do
            grep -qx "1 $prog" "$T/xr" || bad "SEE ALSO does not name $prog(1), which the build declares"
            grep -qx "\.It Xr $prog 1" "$page" || bad "the list of programs has no '.It Xr $prog 1'"
        done
    else
        grep -qx "7 c10k" "$T/xr" || bad "SEE ALSO does not name c10k(7)"
        case $name in srv_*)
            sib=$(grep ' srv_' "$T/xr" | cut -d' ' -f2 | tr '\n' ' ')
            [ -n "$sib" ] && bad "SEE ALSO names sibling servers ($sib): c10k(7) lists them" ;;
        esac
    fi
done
[ $errors -eq 0 ] || exit 1
[ -n "$undated" ] && echo "note: .Dd not checked against git for:$undated (not in a git checkout, or history too shallow)"
echo "ok: $(echo "$pages" | wc -l) pages${have_mandoc:+ (with mandoc -Tlint)}"
