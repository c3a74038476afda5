# install.sh SRCDIR: `make install DESTDIR=...` puts every program the build
# declares (programs.txt) and its page in place, man(1) finds the pages there, and
# `make uninstall` removes them all. It installs from the build the tests run
# (BIN_DIR, which make finds up to date: nothing is rebuilt).
. "$(dirname "$0")/../../lib/lib.sh"
src=$1
: "${BIN_DIR:?BIN_DIR names the build directory of the programs}"
export LC_ALL=C.UTF-8
need_tool man man-db
progs=$(programs server; programs client) || fail "no list of programs"
[ -n "$progs" ] || fail "programs.txt lists no programs"

mk() { make -C "$src" BUILD="$BIN_DIR" "$@" >"$T/make.out" 2>&1; }
mk install DESTDIR="$T/root" || fail "make install failed: $(tail -5 "$T/make.out")"
grep -Eq 'Building CXX|Linking' "$T/make.out" && fail "make install rebuilt the programs: $(grep -E 'Building CXX|Linking' "$T/make.out")"

pre=$T/root/usr/local
export MANPATH=$pre/share/man
for p in $progs; do
    [ -x "$pre/bin/$p" ] || fail "$pre/bin/$p missing or not executable"
    "$pre/bin/$p" -h | grep -q "^usage: $p " || fail "installed $p -h prints no usage"
    cmp -s "$src/man/$p.1" "$pre/share/man/man1/$p.1" || fail "man1/$p.1 missing or not the page"
    where=$(man -w "$p" 2>&1)
    expect_eq "man -w $p" "$where" "$pre/share/man/man1/$p.1"
done
cmp -s "$BIN_DIR/man/c10k.7" "$pre/share/man/man7/c10k.7" || fail "man7/c10k.7 missing or not the build's page"
expect_eq "man -w 7 c10k" "$(man -w 7 c10k 2>&1)" "$pre/share/man/man7/c10k.7"
# What a user sees: the page itself, by name.
MANWIDTH=80 man srv_epoll 2>&1 | grep -q "srv_epoll .* timestamp echo server" ||
    fail "man srv_epoll does not show the page: $(MANWIDTH=80 man srv_epoll 2>&1 | head -5)"

mk uninstall DESTDIR="$T/root" || fail "make uninstall failed: $(tail -5 "$T/make.out")"
left=$(find "$T/root" -type f)
[ -z "$left" ] || fail "make uninstall left: $left"

# PREFIX moves everything.
mk install DESTDIR="$T/opt" PREFIX=/opt/c10k || fail "make install PREFIX=/opt/c10k failed: $(tail -5 "$T/make.out")"
for p in $progs; do
    [ -x "$T/opt/opt/c10k/bin/$p" ] || fail "PREFIX=/opt/c10k: no bin/$p"
    [ -f "$T/opt/opt/c10k/share/man/man1/$p.1" ] || fail "PREFIX=/opt/c10k: no man1/$p.1"
done
mk uninstall DESTDIR="$T/opt" || fail "make uninstall (PREFIX=/opt/c10k) failed: $(tail -5 "$T/make.out")"
[ -z "$(find "$T/opt" -type f)" ] || fail "make uninstall PREFIX=/opt/c10k left files"
echo "ok: installed and removed $(echo $progs | wc -w) programs, their pages and c10k.7"
