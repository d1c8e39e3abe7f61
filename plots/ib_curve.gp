# ib_curve.gp: the information-bottleneck curve of a sweep: the final I(Z;Y) against I(X;Z) of one
# layer and estimator, train (dashed, open markers) and test (solid, filled), the mean over seeds
# with 95% confidence intervals as error bars, markers coloured by the swept parameter.
# vibrun writes the variables above and this script into runs/<exp>/plots/; edit and re-run with
# `gnuplot <name>.gp` there, or redraw every figure with `vibrun plot runs/<exp>`.
#   summary   : summary.csv (one row per configuration: <col>_mean, <col>_sd, <col>_ci95)
#   axis      : the swept parameter's column (the colour); logaxis = 1 for a log colour scale
#   ixz, izy  : column stems without split and statistic, e.g. z_variational_ixz_bits
#   splits    : "train test", or one of them
#   connect   : 1 to join the configurations in file order (the axis is the only swept param)
#   title, out: the figure's title and its path without extension

ns = words(splits)
col(s, stem, stat) = s."_".stem."_".stat
axis_label = axis eq "beta" ? "β" : axis eq "gamma" ? "γ" : axis
split_title(s) = s eq "train" ? "train" : "test"
do for [fmt in formats] {
  eval term(fmt)
  set output out.".".fmt
  set multiplot title title
  eval style
  grid_r = 1 - 8 * cw - 2 * lx
  eval panel(1, 1, 1, 1)
  set xlabel "I(X;Z) (bits)"
  set ylabel "I(Z;Y) (bits)"
  if (logaxis) { set logscale cb; set format cb "10^{%L}" } else { unset logscale cb; set format cb "%g" }
  set cblabel axis_label
  set colorbox user origin screen grid_r + 2 * cw, screen grid_b size screen 1.2 * cw, screen grid_t - grid_b
  set key inside top left   # an IB curve is concave increasing: its top left is empty
  # I(X;Z) over a beta sweep spans decades (VIB's rates run from ~10 to ~1000 bits): log axis then
  stats summary using (column(col(word(splits, 1), ixz, "mean"))) nooutput
  if (STATS_min > 0 && STATS_max / STATS_min > 20) { eval log_tics(STATS_min, STATS_max) } \
  else { unset logscale x; set format x "%g"; set xtics autofreq }
  plot for [si = 1:ns] summary using (column(col(word(splits, si), ixz, "mean"))):(connect ? column(col(word(splits, si), izy, "mean")) : NaN) \
         with lines lw 1.2 dt split_dt(word(splits, si)) lc rgb "#7f7f7f", \
       for [si = 1:ns] summary using (column(col(word(splits, si), ixz, "mean"))):(column(col(word(splits, si), izy, "mean"))): \
         (column(col(word(splits, si), ixz, "ci95"))):(column(col(word(splits, si), izy, "ci95"))):(column(axis)) \
         with xyerrorbars pt split_pt(word(splits, si)) ps 1 lw 1 lc palette z, \
       for [si = 1:ns] keyentry with linespoints dt split_dt(word(splits, si)) pt split_pt(word(splits, si)) lc rgb "#303030" title split_title(word(splits, si))
  unset multiplot
  set output
}
