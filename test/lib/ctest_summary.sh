#!/bin/sh
# ctest_summary.sh LOG BUILD: after make check's ctest run, the tests that failed
# once and passed on their retry, and the tests skipped with their reasons (from
# ctest's full log beside LOG); for the fuzz build, how many inputs each target ran.
log=$1 build=$2
[ -f "$log" ] || exit 0
name() { sed -n 's/.*Test  *#[0-9]*: \([^ ]*\) .*/\1/p'; }
retried=
for t in $(grep -E 'Test +#[0-9]+: .*\*\*\*Failed' "$log" | name | sort -u); do
    grep -Eq "Test +#[0-9]+: $t \.+ +Passed" "$log" && retried="$retried $t"
done
skipped=$(grep -E 'Test +#[0-9]+: .*\*\*\*Skipped' "$log" | name | sort -u | tr '\n' ' ')
echo "== $build build: retried:${retried:- none}"
echo "== $build build: skipped: ${skipped:-none}"
full=$(dirname "$log")/Testing/Temporary/LastTest.log
[ -n "$skipped" ] && [ -f "$full" ] && grep -h '^SKIP: ' "$full" | sort | uniq -c | sed 's/^/   /'
# The fuzz build: how much each target ran (test/fuzz/run.sh's last line).
[ -f "$full" ] && grep -h '^fuzz: ' "$full" | sed 's/^/   /'
exit 0
