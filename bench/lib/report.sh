# shellcheck shell=bash
# report RESULTS_TSV...: one markdown table per case (the last row of each tool, case, mode wins, so
# several result files can be given, oldest first), nbuild vs buildah side by side, the ratio, and the
# issue-9 goal where one exists. Goals are the absolute seconds of issue 9, set against the lab's
# buildah figure (RESULTS.md); the goal as a ratio (goal / lab buildah) is applied to this run's buildah.
report() {
  local f
  for f in "$@"; do [ -s "$f" ] || { echo "(no results in $f)"; return; }; done
  awk -F'\t' '
    BEGIN {
      # case mode -> "goal_s lab_buildah_s"
      G["tiny","to-oci"]="0.16 0.39"; G["many-layers","to-oci"]="1.0 4.39"; G["copy-many","to-oci"]="4.4 11.1"
      G["apt","to-oci"]="5.7 6.5"; G["multistage","to-oci"]="7.2 8.4"; G["big-layer","to-oci"]="18 36.4"
      G["copy-many","warm"]="0.3 4.65"
      split("cold warm touch edit export to-oci", MO, " ")
    }
    function mib(k) { return (k == "-" || k == "") ? "-" : sprintf("%.0f", k / 1024) }
    function cell(k) { if (!(k in med)) return "–"; return sprintf("%s (%s–%s)%s", med[k], mn[k], mx[k], st[k] == "ok" ? "" : " " st[k]) }
    FNR == 1 && $1 == "tool" { next }
    {
      k = $1 SUBSEP $2 SUBSEP $3
      med[k] = $5; mn[k] = $6; mx[k] = $7; n[k] = $4; rss[k] = $9; by[k] = $10; st[k] = $11
      if (!($2 in seen)) { seen[$2] = 1; order[++nc] = $2 }
    }
    END {
      for (c = 1; c <= nc; c++) {
        cs = order[c]
        printf "\n#### %s\n\n| mode | nbuild s, median (min–max) | buildah s, median (min–max) | nbuild/buildah | peak RSS MiB nbuild / buildah | archive MB nbuild / buildah | goal (ratio) | met |\n|---|---|---|---|---|---|---|---|\n", cs
        for (m = 1; m <= 6; m++) {
          mo = MO[m]; a = "nbuild" SUBSEP cs SUBSEP mo; b = "buildah" SUBSEP cs SUBSEP mo
          if (!(a in med) && !(b in med)) continue
          r = ((a in med) && (b in med) && st[a] == "ok" && st[b] == "ok" && med[b] > 0) ? sprintf("%.2f", med[a] / med[b]) : "–"
          gl = "–"; met = ""
          if ((cs, mo) in G) {
            split(G[cs, mo], g, " "); gr = g[1] / g[2]
            gl = sprintf("≤ %.2f (%s s vs %s s)", gr, g[1], g[2])
            if (r != "–") met = (r + 0 <= gr + 1e-9) ? "yes" : sprintf("no (needs ≤ %.2f s)", gr * med[b])
            else met = "not measured"
            if (cs == "big-layer" && (a in rss) && rss[a] != "-" && rss[a] / 1024 > 300) met = met ", RSS > 300 MB"
          }
          sz = ((a in by) && by[a] != "-") || ((b in by) && by[b] != "-") ? sprintf("%s / %s", (by[a] == "-" || by[a] == "") ? "-" : sprintf("%.1f", by[a] / 1e6), (by[b] == "-" || by[b] == "") ? "-" : sprintf("%.1f", by[b] / 1e6)) : ""
          printf "| %s | %s | %s | %s | %s / %s | %s | %s | %s |\n", mo, cell(a), cell(b), r, mib(rss[a]), mib(rss[b]), sz, gl, met
        }
      }
    }' "$@"
}
