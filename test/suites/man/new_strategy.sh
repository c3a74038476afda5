# new_strategy.sh SRCDIR: a new strategy is three files. In a copy of the tree,
# srv/srv_pollcopy.cpp (srv_poll.cpp as it is), man/srv_pollcopy.1 (srv_poll's page
# renamed) and one c10k_strategy() line, and nothing else: the build makes and
# links the program, programs.txt and so the bench list it, the shared server
# suite (workers included) runs for it, make install installs it with its page,
# and man.lint passes with c10k(7) naming it.
. "$(dirname "$0")/../../lib/lib.sh"
src=$1
need_tool man man-db
need_tool groff groff-base
# The copy lives beside $T: cleanup's sanitizer scan of $T would read lib.sh's
# own patterns in it.
tree=$T.tree
trap 'rc=$?; rm -rf "$tree"; (exit $rc); cleanup' EXIT
mkdir "$tree"
(cd "$src" && tar cf - --exclude='./build*' --exclude=./.git --exclude='./srv_*' --exclude=./cli_flood .) |
    (cd "$tree" && tar xf -) || fail "cannot copy the tree"
cd "$tree" || fail "no copy"
cp srv/srv_poll.cpp srv/srv_pollcopy.cpp
sed 's/srv_poll/srv_pollcopy/g; s/SRV_POLL/SRV_POLLCOPY/g' man/srv_poll.1 >man/srv_pollcopy.1
echo 'c10k_strategy(srv_pollcopy WORKERS)' >>srv/CMakeLists.txt

cmake -S . -B build >"$T/cmake.out" 2>&1 || fail "cmake: $(tail -5 "$T/cmake.out")"
grep -qx 'srv_pollcopy server WORKERS' build/programs.txt || fail "programs.txt: $(cat build/programs.txt)"
C10K_PROGRAMS=$PWD/build/programs.txt
programs server | grep -qx srv_pollcopy || fail "the bench's server list lacks it: $(programs server | tr '\n' ' ')"
(cd build && ctest -N) >"$T/tests"
for t in echo_devtcp rude_clients flood_10k emfile rude workers usage man; do
    grep -q " srv_pollcopy\.$t\$" "$T/tests" || fail "no test srv_pollcopy.$t in: $(grep -c 'Test *#' "$T/tests") tests"
done
cmake --build build -j2 --target srv_pollcopy >"$T/build.out" 2>&1 || fail "build: $(tail -5 "$T/build.out")"
build/srv_pollcopy -h | grep -q '^usage: srv_pollcopy ' || fail "-h: $(build/srv_pollcopy -h 2>&1 | head -2)"
SERVER=$PWD/build/srv_pollcopy
start_server
grep -q "^srv_pollcopy: listening on " "$T/srv.out" || fail "start line: $(cat "$T/srv.out")"
stop_server || fail "exit status $? on SIGTERM"

# c10k(7) as built names it, and every page lints.
grep -qx '.It Xr srv_pollcopy 1' build/man/c10k.7 || fail "c10k(7) does not list it"
bash "$src/test/suites/man/lint.sh" "$PWD/man" "$PWD/build/man/c10k.7" >"$T/lint.out" 2>&1 ||
    fail "man.lint: $(cat "$T/lint.out")"
DESTDIR=$T/root cmake --install build --prefix /usr --component srv_pollcopy >"$T/inst.out" 2>&1 ||
    fail "cmake --install: $(tail -3 "$T/inst.out")"
[ -x "$T/root/usr/bin/srv_pollcopy" ] || fail "not installed: $(tail -3 "$T/inst.out")"
[ -f "$T/root/usr/share/man/man1/srv_pollcopy.1" ] || fail "its page is not installed"
echo "ok: srv_pollcopy built, listed, tested, installed and in c10k(7) from three files"
