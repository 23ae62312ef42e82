# shellcheck shell=bash
# report RESULTS_TSV...: one markdown table per case (the last row of each tool, case, mode wins, so
# several result files can be given, oldest first): nbuild, BuildKit and buildah side by side, the
# ratios nbuild/BuildKit and nbuild/buildah (each from the same run's medians), nbuild's peak RSS and
# issue 18's goals: nbuild/BuildKit <= 1.0 for cold, no-op and to-oci, copy-many's no-op <= 0.3 s,
# nbuild's peak RSS <= 300 MB in every mode. Mode "warm" (older result files) reads as "no-op".
report() {
  local f
  for f in "$@"; do [ -s "$f" ] || { echo "(no results in $f)"; return; }; done
  awk -F'\t' '
    BEGIN { split("cold no-op touch edit export to-oci", MO, " ") }
    function mib(k) { return (!(k in rss) || rss[k] == "-" || rss[k] == "") ? "-" : sprintf("%.0f", rss[k] / 1024) }
    function mb(k) { return (!(k in by) || by[k] == "-" || by[k] == "") ? "-" : sprintf("%.1f", by[k] / 1e6) }
    function cell(k) { if (!(k in med)) return "–"; return sprintf("%s (%s–%s)%s", med[k], mn[k], mx[k], st[k] == "ok" ? "" : " " st[k]) }
    function ok(k) { return (k in med) && st[k] == "ok" && med[k] != "-" }
    function ratio(a, b) { return (ok(a) && ok(b) && med[b] > 0) ? sprintf("%.2f", med[a] / med[b]) : "–" }
    FNR == 1 && $1 == "tool" { next }
    {
      if ($3 == "warm") $3 = "no-op"
      k = $1 SUBSEP $2 SUBSEP $3
      med[k] = $5; mn[k] = $6; mx[k] = $7; n[k] = $4; rss[k] = $9; by[k] = $10; st[k] = $11
      if (!($2 in seen)) { seen[$2] = 1; order[++nc] = $2 }
    }
    END {
      for (c = 1; c <= nc; c++) {
        cs = order[c]
        printf "\n#### %s\n\n| mode | nbuild s, median (min–max) | BuildKit s | buildah s | nbuild/BuildKit | nbuild/buildah | nbuild peak RSS MiB | peak RSS MiB BuildKit daemon / buildah | archive MB nbuild / BuildKit / buildah | issue 18 goal met |\n|---|---|---|---|---|---|---|---|---|---|\n", cs
        for (m = 1; m <= 6; m++) {
          mo = MO[m]; a = "nbuild" SUBSEP cs SUBSEP mo; k = "buildkit" SUBSEP cs SUBSEP mo; b = "buildah" SUBSEP cs SUBSEP mo
          if (!(a in med) && !(k in med) && !(b in med)) continue
          rk = ratio(a, k); rb = ratio(a, b)
          met = ""
          if (mo == "cold" || mo == "no-op" || mo == "to-oci")
            met = (rk == "–") ? "not measured" : ((rk + 0 <= 1.0 + 1e-9) ? "yes" : "no (BuildKit faster)")
          if (cs == "copy-many" && mo == "no-op" && ok(a))
            met = met (med[a] + 0 <= 0.3 + 1e-9 ? ", ≤ 0.3 s" : ", > 0.3 s")
          if (ok(a) && mib(a) != "-" && rss[a] / 1024 > 300) met = met (met == "" ? "" : ", ") "RSS > 300 MB"
          sz = (mb(a) != "-" || mb(k) != "-" || mb(b) != "-") ? sprintf("%s / %s / %s", mb(a), mb(k), mb(b)) : ""
          printf "| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s |\n", mo, cell(a), cell(k), cell(b), rk, rb, mib(a), mib(k), mib(b), sz, met
        }
      }
    }' "$@"
}
