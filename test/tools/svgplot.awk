# svgplot.awk: draws one line chart as SVG from lines "series x y" on stdin.
#   awk -v title=T -v xlabel=X -v ylabel=Y [-v logy=1] [-v linx=1] [-v xticks="V=LABEL ..."] \
#       -f svgplot.awk data > chart.svg
# x is drawn on a log scale (connections grow by decades), its ticks at 1, 2, 5 x 10^k
# or at the values xticks names; with linx=1 on a linear scale from its smallest
# value (time), ticks at 1, 2, 5 x 10^k steps; y is linear from zero, or logarithmic with logy=1
# (latencies that span decades). Points with y < 0 are missing (a run that failed)
# and break the line.
function lg(v) { return log(v) / log(10) }
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); return s }
function px(x) { return L + ((linx ? x : lg(x)) - x0) / (x1 - x0) * W }
function py(y) {
    if (logy) return T + H - (lg(y) - y0) / (y1 - y0) * H
    return T + H - (y - y0) / (y1 - y0) * H
}
function nice(v,   p, m) {  # 1, 2, 5 x 10^k at or above v
    if (v <= 0) return 1
    p = exp(log(10) * int(lg(v))); if (p > v) p /= 10
    m = v / p
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p
}
function label(v) {
    if (v >= 1e6 && v % 1e6 == 0) return (v / 1e6) "M"
    if (v >= 1e3 && v % 1e3 == 0) return (v / 1e3) "k"
    if (v >= 1) return sprintf("%g", v)
    return sprintf("%.2g", v)
}
{
    s = $1; x = $2 + 0; y = $3 + 0
    if (!(s in seen)) { seen[s] = 1; order[++ns] = s }
    n = ++np[s]; X[s, n] = x; Y[s, n] = y
    if (!xs || x < xmin) xmin = x
    if (!xs || x > xmax) xmax = x
    xs = 1
    if (y > 0 && (!ys || y < ymin)) ymin = y
    if (y > 0 && (!ys || y > ymax)) ymax = y
    if (y > 0) ys = 1
}
END {
    Wt = 720; Ht = 440; L = 90; R = 170; T = 50; B = 60; W = Wt - L - R; H = Ht - T - B
    if (!ys) { ymin = 1; ymax = 10 }
    if (linx) { x0 = xmin; x1 = xmax; if (x1 <= x0) x1 = x0 + 1; xstep = nice((x1 - x0) / 6) }
    else { x0 = lg(xmin); x1 = lg(xmax); if (x1 <= x0) { x0 -= 0.5; x1 += 0.5 } }
    if (logy) {
        y0 = int(lg(ymin)); if (lg(ymin) < y0) y0--
        y1 = int(lg(ymax)); if (lg(ymax) > y1) y1++
        if (y1 <= y0) y1 = y0 + 1
    } else {
        y0 = 0; step = nice(ymax / 5); y1 = step * (int(ymax / step) + 1)
    }
    printf "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", Wt, Ht, Wt, Ht
    printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
    printf "<text x=\"%d\" y=\"28\" font-size=\"16\" font-weight=\"bold\">%s</text>\n", L, esc(title)
    # grid and tick labels
    nt = split(xticks, tick, " ")
    for (k = 1; k <= nt; k++) {
        v = substr(tick[k], 1, index(tick[k], "=") - 1) + 0; gx = px(v)
        printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ccc\"/>\n", gx, T, gx, T + H
        printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", gx, T + H + 18, esc(substr(tick[k], index(tick[k], "=") + 1))
    }
    for (v = linx ? int(x0 / xstep) * xstep : 0; linx && !nt && v <= x1 + 1e-9; v += xstep) {
        if (v < x0 - 1e-9) continue
        gx = px(v)
        printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ccc\"/>\n", gx, T, gx, T + H
        printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", gx, T + H + 18, label(v)
    }
    for (e = int(x0); !linx && !nt && e <= x1 + 1e-9; e++) {
        for (m = 1; m <= 9; m++) {
            v = m * exp(log(10) * e); if (lg(v) < x0 - 1e-9 || lg(v) > x1 + 1e-9) continue
            gx = px(v)
            printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\"/>\n", gx, T, gx, T + H, m == 1 ? "#ccc" : "#eee"
            if (m == 1 || m == 2 || m == 5)
                printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", gx, T + H + 18, label(v)
        }
    }
    if (logy) {
        for (e = y0; e <= y1; e++) {
            for (m = 1; m <= 9; m++) {
                v = m * exp(log(10) * e); if (lg(v) > y1 + 1e-9) continue
                gy = py(v)
                printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/>\n", L, gy, L + W, gy, m == 1 ? "#ccc" : "#eee"
                if (m == 1 || m == 2 || m == 5)
                    printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", L - 6, gy + 4, label(v)
            }
        }
    } else {
        for (v = 0; v <= y1 + step / 2; v += step) {
            gy = py(v)
            printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ccc\"/>\n", L, gy, L + W, gy
            printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", L - 6, gy + 4, label(v)
        }
    }
    printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>\n", L, T, W, H
    printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", L + W / 2, Ht - 15, esc(xlabel)
    printf "<text transform=\"translate(22 %.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n", T + H / 2, esc(ylabel)
    split("#1f77b4 #d62728 #2ca02c #ff7f0e #9467bd #8c564b #e377c2 #17becf", color, " ")
    for (k = 1; k <= ns; k++) {
        s = order[k]; c = color[(k - 1) % 8 + 1]
        printf "<g class=\"series\" data-series=\"%s\">\n", esc(s)
        d = ""
        for (i = 1; i <= np[s]; i++) {
            if (Y[s, i] <= 0) { if (d != "") printf "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", d, c; d = ""; continue }
            d = d (d == "" ? "M" : " L") sprintf("%.1f %.1f", px(X[s, i]), py(Y[s, i]))
        }
        if (d != "") printf "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", d, c
        for (i = 1; i <= np[s]; i++) {
            if (Y[s, i] > 0)
                printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n", px(X[s, i]), py(Y[s, i]), c
            else  # a failed point: a cross on the axis
                printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\" font-weight=\"bold\">x</text>\n", px(X[s, i]), T + H - 4, c
        }
        ly = T + 10 + (k - 1) * 22
        printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>\n", L + W + 15, ly, L + W + 40, ly, c
        printf "<text x=\"%d\" y=\"%d\">%s</text>\n", L + W + 46, ly + 4, esc(s)
        printf "</g>\n"
    }
    printf "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#666\">x = failed point</text>\n", L + W + 15, T + 10 + ns * 22 + 8
    printf "</svg>\n"
}
