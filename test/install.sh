# install.sh SRCDIR: `make install DESTDIR=...` puts every program of PROGS and its
# page in place, man(1) finds the pages there, and `make uninstall` removes them all.
# It runs in a copy of the tree, with the programs CMake built (BIN_DIR) copied in
# after the sources so that make finds them up to date: the source tree is not touched.
. "$(dirname "$0")/lib.sh"
src=$1
: "${BIN_DIR:?BIN_DIR names the directory of the built programs}"
export LC_ALL=C.UTF-8
need_tool man man-db

mkdir "$T/src"
cp -r "$src/Makefile" "$src/man" "$src/common" "$T/src/"
for d in srv cli; do [ -d "$src/$d" ] && cp -r "$src/$d" "$T/src/"; done
progs=$(sed -n 's/^PROGS := *//p' "$src/Makefile")
[ -n "$progs" ] || fail "no PROGS line in $src/Makefile"
for p in $progs; do
    cp "$BIN_DIR/$p" "$T/src/$p" || fail "$p is not built in $BIN_DIR"
done
touch $(for p in $progs; do echo "$T/src/$p"; done)

make -C "$T/src" install DESTDIR="$T/root" >"$T/make.out" 2>&1 ||
    fail "make install failed: $(tail -5 "$T/make.out")"
grep -q -- '-o ' "$T/make.out" && fail "make install rebuilt the programs: $(grep -- '-o ' "$T/make.out")"

pre=$T/root/usr/local
export MANPATH=$pre/share/man
for p in $progs; do
    [ -x "$pre/bin/$p" ] || fail "$pre/bin/$p missing or not executable"
    "$pre/bin/$p" -h | grep -q "^usage: $p " || fail "installed $p -h prints no usage"
    cmp -s "$src/man/$p.1" "$pre/share/man/man1/$p.1" || fail "man1/$p.1 missing or not the page"
    where=$(man -w "$p" 2>&1)
    expect_eq "man -w $p" "$where" "$pre/share/man/man1/$p.1"
done
cmp -s "$src/man/c10k.7" "$pre/share/man/man7/c10k.7" || fail "man7/c10k.7 missing or not the page"
expect_eq "man -w 7 c10k" "$(man -w 7 c10k 2>&1)" "$pre/share/man/man7/c10k.7"
# What a user sees: the page itself, by name.
MANWIDTH=80 man srv_epoll 2>&1 | grep -q "srv_epoll .* timestamp echo server" ||
    fail "man srv_epoll does not show the page: $(MANWIDTH=80 man srv_epoll 2>&1 | head -5)"

make -C "$T/src" uninstall DESTDIR="$T/root" >"$T/make.out" 2>&1 ||
    fail "make uninstall failed: $(tail -5 "$T/make.out")"
left=$(find "$T/root" -type f)
[ -z "$left" ] || fail "make uninstall left: $left"

# PREFIX and MANDIR move everything.
make -C "$T/src" install DESTDIR="$T/opt" PREFIX=/opt/c10k >"$T/make.out" 2>&1 ||
    fail "make install PREFIX=/opt/c10k failed: $(tail -5 "$T/make.out")"
for p in $progs; do
    [ -x "$T/opt/opt/c10k/bin/$p" ] || fail "PREFIX=/opt/c10k: no bin/$p"
    [ -f "$T/opt/opt/c10k/share/man/man1/$p.1" ] || fail "PREFIX=/opt/c10k: no man1/$p.1"
done
make -C "$T/src" uninstall DESTDIR="$T/opt" PREFIX=/opt/c10k >/dev/null 2>&1
[ -z "$(find "$T/opt" -type f)" ] || fail "make uninstall PREFIX=/opt/c10k left files"
echo "ok: installed and removed $(echo $progs | wc -w) programs, their pages and c10k.7"
