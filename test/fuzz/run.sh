#!/bin/sh
# run.sh FUZZER SRCDIR SECONDS: replays every regression input of the target (each
# one a crash found before, fixed since), then fuzzes for SECONDS from its seed
# corpus. A crash leaves its input in the build's artifacts/<target>/: copy it to
# test/fuzz/regress/<target>/ with the fix.
set -u
fuzzer=$1 src=$2 secs=$3
name=$(basename "$fuzzer")
work=$(dirname "$fuzzer")/work/$name
art=$(dirname "$fuzzer")/artifacts/$name
mkdir -p "$work" "$art"
# -close_fd_mask=1: the code under test prints usage and errors; libFuzzer's own
# stderr to /dev/null itself (fuzz.h), so checks and sanitizer reports still show.
opts="-close_fd_mask=1 -rss_limit_mb=1024"
if [ -d "$src/regress/$name" ] && [ -n "$(ls -A "$src/regress/$name")" ]; then
    "$fuzzer" $opts -runs=0 "$src/regress/$name" >"$art/regress.log" 2>&1 || {
        cat "$art/regress.log" >&2
        echo "FAIL: $name: a regression input of test/fuzz/regress/$name fails again" >&2
        exit 1
    }
    echo "$name: $(ls "$src/regress/$name" | wc -l) regression inputs pass"
fi
# New inputs go to the build's work directory; the committed seeds stay as they are.
"$fuzzer" $opts -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$art/" \
    "$work" "$src/corpus/$name" >"$art/fuzz.log" 2>&1
rc=$?
if [ $rc != 0 ]; then
    grep -v -E '^#[0-9]+' "$art/fuzz.log" | tail -40 >&2
    echo "FAIL: $name found a crash; its input is in $art/" >&2
    exit 1
fi
stat() { sed -n "s/^stat::$1: *//p" "$art/fuzz.log"; }
echo "fuzz: $name: $(stat number_of_executed_units) runs in $secs s, $(ls "$work" | wc -l) inputs in its corpus, no crash"
