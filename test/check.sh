#!/bin/sh
# check.sh: the whole test suite, as CI runs it (make check; .ci/run).
# First test/deps.sh installs the Debian packages the tests use that are missing
# (as root). Then each build of CHECK_BUILDS (default: plain asan tsan fuzz):
#   plain  build/, with _FORTIFY_SOURCE: every test
#   asan   build-asan/, ASan and UBSan: every test but the pure scale and timing ones
#   tsan   build-tsan/, ThreadSanitizer: the tests labelled tsan (the servers whose
#          threads share memory, srv/CMakeLists.txt's THREADS), and only what they run
#   fuzz   build-fuzz/ (clang++, -DFUZZ=ON): each libFuzzer target replays its
#          regression inputs, then fuzzes for 10 s (FUZZ_SECONDS), two at a time
# Two tests at a time: most of the suite's time is tests waiting out timeouts;
# tests that load the machine or time a server take a machine-wide lock
# (test/lib/lib.sh, load_lock), so those still run one at a time. A failed test
# gets one retry (not a fuzzer: a crash found is a bug); each build ends with the
# tests retried and skipped. CTEST_ARGS are added to every ctest.
set -eu
cd "$(dirname "$0")/.."
builds=${CHECK_BUILDS:-plain asan tsan fuzz}
for b in $builds; do
    case $b in plain|asan|tsan|fuzz) ;; *)
        echo "check: unknown build '$b' in CHECK_BUILDS (plain, asan, tsan, fuzz)" >&2; exit 2 ;;
    esac
done
sh test/deps.sh || echo "check: tests that need the missing tools will skip (fail under CI=true)"

for b in $builds; do
    start=$(date +%s)
    targets= only= rc=0
    case $b in
    fuzz)
        echo "== check: fuzz build, in build-fuzz/"
        if ! command -v clang++ >/dev/null; then
            [ "${CI:-}" = true ] && { echo "check: clang++ is missing under CI: test/deps.sh installs clang" >&2; exit 1; }
            echo "== fuzz build: skipped: clang++ is not installed (apt-get install clang libclang-rt-dev)"
            continue
        fi
        cmake -S . -B build-fuzz -DFUZZ=ON -DCMAKE_CXX_COMPILER=clang++ >/dev/null
        cmake --build build-fuzz -j2
        (cd build-fuzz && ctest -L fuzz -j2 --output-on-failure --output-log ctest.log ${CTEST_ARGS:-}) || rc=$?
        echo "== fuzz build: $(($(date +%s) - start)) s of fuzzing"
        sh test/lib/ctest_summary.sh build-fuzz/ctest.log fuzz
        [ $rc = 0 ] || exit $rc
        continue ;;
    asan) dir=build-asan san=ON ;;
    tsan) dir=build-tsan san=thread only="-L tsan" targets="--target c10k_tsan" ;;
    *) dir=build san=OFF ;;
    esac
    echo "== check: $b build, in $dir/"
    cmake -S . -B $dir -DSANITIZE=$san >/dev/null
    cmake --build $dir -j2 $targets
    (cd $dir && ctest -j2 --output-on-failure --timeout 300 --repeat until-pass:2 \
        --output-log ctest.log $only ${CTEST_ARGS:-}) || rc=$?
    echo "== $b build: $(($(date +%s) - start)) s"
    sh test/lib/ctest_summary.sh $dir/ctest.log $b
    [ $rc = 0 ] || exit $rc
done
