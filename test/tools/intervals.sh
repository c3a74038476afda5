#!/bin/sh
# intervals.sh: the latency over time of any `cli_flood -i SECONDS --json` run, as
# an SVG line chart: p50, p99 and p99.9 of each interval against its time, one
# series per percentile (with -w, one per percentile and worker: p99/w0 ...).
#   sh test/tools/intervals.sh [-t TITLE] FILE.jsonl >chart.svg
# FILE is the run's standard output (the interval records, then the report, which
# is left out); "-" reads stdin. Needs jq and awk.
set -eu
here=$(dirname "$0")
title="cli_flood: latency per interval"
if [ "${1:-}" = -t ]; then title=$2; shift 2; fi
[ $# = 1 ] || { echo "usage: intervals.sh [-t title] file.jsonl" >&2; exit 2; }
command -v jq >/dev/null || { echo "intervals.sh: jq is not installed" >&2; exit 1; }
data=$(jq -r 'select(.type == "interval") | (if has("worker") then "/w\(.worker)" else "" end) as $w |
    ("p50\($w) \(.t_s) \(.latency_us.p50)", "p99\($w) \(.t_s) \(.latency_us.p99)",
     "p99.9\($w) \(.t_s) \(.latency_us.p999 // -1)")' "$1") ||
    { echo "intervals.sh: $1: not the JSON Lines of cli_flood -i --json" >&2; exit 1; }
[ -n "$data" ] || { echo "intervals.sh: $1: no interval records (run cli_flood with -i and --json)" >&2; exit 1; }
# Series in the order they first appear (p50, p99, p99.9), points in time order.
echo "$data" | awk -v title="$title" -v xlabel="seconds since the start" \
    -v ylabel="latency (us, log scale)" -v logy=1 -v linx=1 -f "$here/svgplot.awk"
