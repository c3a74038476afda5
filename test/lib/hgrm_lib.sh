# check_hgrm HGRM JSON WHAT: HGRM is in the format of HdrHistogram_c's
# hdr_percentiles_print (CLASSIC) and describes the latency of the --json report
# JSON. Sourced by the tests that write --hgrm files; needs jq. (No regex
# intervals such as {3}: mawk lacks them.)
#  - header line and a blank line, exactly;
#  - rows "%12.3f %12f %12d %12.2f": four right-aligned 12-column fields;
#  - percentiles never decreasing and 1/(1-p) strictly increasing (%12f prints
#    deep percentiles alike), counts and values never decreasing;
#  - the last row at 1.000000, inf, with the total count = the report's succeeded;
#  - the row at 0.500000 is the report's p50 to the histogram's resolution (1/64);
#  - footers: Mean = the report's avg, Max = its max, Total count, and
#    Buckets = 58, SubBuckets = 128; nothing after them.
check_hgrm() {
    local h=$1 j=$2 what=$3 n p50 avg max
    n=$(jq -r .succeeded "$j") p50=$(jq -r .latency_us.p50 "$j")
    avg=$(jq -r .latency_us.avg "$j") max=$(jq -r .latency_us.max "$j")
    [ -n "$n" ] && [ "$n" -gt 0 ] || fail "$what: the report has no successes: $(head -c 300 "$j")"
    awk -v n="$n" -v p50="$p50" -v avg="$avg" -v max="$max" '
        function bad(m) { print "line " NR ": " m ": [" $0 "]"; err = 1; exit 1 }
        function near(a, b, tol) { return a - b <= tol && b - a <= tol }
        NR == 1 { if ($0 != "       Value   Percentile   TotalCount 1/(1-Percentile)") bad("header"); next }
        NR == 2 { if ($0 != "") bad("no blank line after the header"); next }
        /^#/ { foot++
            if (foot == 1 && !match($0, /^#\[Mean    = +[0-9]+\.[0-9][0-9][0-9], StdDeviation   = +[0-9]+\.[0-9][0-9][0-9]\]$/)) bad("Mean footer")
            if (foot == 1) { split($0, f, /[=,\]]+/); if (!near(f[2] + 0, avg, 0.051)) bad("Mean is not the report avg " avg) }
            if (foot == 2 && !match($0, /^#\[Max     = +[0-9]+\.[0-9][0-9][0-9], Total count    = +[0-9]+\]$/)) bad("Max footer")
            if (foot == 2) { split($0, f, /[=,\]]+/)
                if (!near(f[2] + 0, max, 0.051)) bad("Max is not the report max " max)
                if (f[4] + 0 != n) bad("Total count is not the report succeeded " n) }
            if (foot == 3 && $0 != "#[Buckets =           58, SubBuckets     =          128]") bad("Buckets footer")
            if (foot > 3) bad("more than three footer lines")
            next }
        foot { bad("a row after the footer") }
        {
            if (length($0) != 51 || !match($0, /^ *[0-9]+\.[0-9][0-9][0-9] +[01]\.[0-9][0-9][0-9][0-9][0-9][0-9] +[0-9]+ +([0-9]+\.[0-9][0-9]|inf)$/))
                bad("not a %12.3f %12f %12d %12.2f row")
            v = $1 + 0; p = $2 + 0; c = $3 + 0
            # %12f rounds deep percentiles alike (0.999995 twice); 1/(1-p) tells them apart.
            inv = ($4 == "inf") ? 1e300 : $4 + 0
            if (rows && (p < lp || inv <= linv || c < lc || v < lv)) bad("percentile, count or value went down")
            if ($2 == "0.500000") { half = 1; if (!near(v, p50, p50 / 64 + 0.1)) bad("value at 0.5 is not the report p50 " p50) }
            if ((p == 1) != ($4 == "inf")) bad("1/(1-Percentile) is inf on the 1.0 row only")
            rows++; lp = p; linv = inv; lc = c; lv = v; last = $0
        }
        END {
            if (err) exit 1
            if (rows < 3) { print "only " rows " rows"; exit 1 }
            if (!half) { print "no row at 0.500000"; exit 1 }
            if (lp != 1 || lc != n) { print "last row not at 1.0 with count " n ": [" last "]"; exit 1 }
            if (foot != 3) { print foot + 0 " footer lines, want 3"; exit 1 }
        }' "$h" >"$T/hgrm.why" || fail "$what: $h: $(cat "$T/hgrm.why")
$(head -4 "$h")
$(tail -5 "$h")"
    echo "$what: $(grep -c '^ ' "$h") rows, p50 $(awk '$2 == "0.500000" {print $1}' "$h") (report $p50), count $n"
}
