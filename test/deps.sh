#!/bin/sh
# Installs the Debian packages the test suite uses that this machine lacks:
# .ci/run calls it before make check. Run it as root (or it only lists them).
#   jq: JSON reports; libxml2-utils: xmllint for the charts; groff-base and
#   man-db: the manual tests; iproute2: the network-namespace test;
#   util-linux, bsdutils: setpriv, prlimit, script; time: GNU time, for a peak
#   RSS; clang and libclang-rt-dev: clang++ and its libFuzzer runtime, for the
#   fuzz targets (test/fuzz/); nginx-light, redis-server (with redis-tools'
#   redis-cli) and memcached: the servers cli_flood's --http and --send tests
#   load (test/suites/cli/nginx.sh, redis.sh, memcached.sh); wrk: not a test's,
#   the measuring stick README's "Testing your own server" compares against.
set -u
need=
have() { command -v "$1" >/dev/null 2>&1; }
have jq || need="$need jq"
have xmllint || need="$need libxml2-utils"
have groff || need="$need groff-base"
have man || need="$need man-db"
have ip || need="$need iproute2"
{ have setpriv && have prlimit; } || need="$need util-linux"
have script || need="$need bsdutils"
[ -x /usr/bin/time ] || need="$need time"
have nginx || need="$need nginx-light"
{ have redis-server && have redis-cli; } || need="$need redis-server"
have memcached || need="$need memcached"
have wrk || need="$need wrk"
have cmake || need="$need cmake"
have g++ || need="$need g++"
have clang++ || need="$need clang"
# The libFuzzer runtime is only recommended by clang, which --no-install-recommends skips.
fuzzer_rt=$(clang++ -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)
[ -f "$fuzzer_rt" ] || need="$need libclang-rt-dev"
[ -z "$need" ] && { echo "deps: every tool the tests use is here"; exit 0; }
if [ "$(id -u)" != 0 ] || ! have apt-get; then
    echo "deps: missing:$need (install them, e.g. apt-get install$need)" >&2
    exit 1
fi
echo "deps: installing$need"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends $need >/dev/null || {
    echo "deps: apt-get install$need failed" >&2
    exit 1
}
