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
#   exact     : the data set's exact IB curve (a point's ib_exact.csv: beta, ixt_bits, ity_bits, ...),
#               drawn under the points as a black line; "" for none
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
  # The colour range is the swept param's range over every configuration, set here: autoscaled,
  # gnuplot would leave out a point its log axis cannot place (an interval reaching below zero)
  # and give that point the colour of another value.
  stats summary using (column(axis)) nooutput name "AX"
  cb_lo = AX_min; cb_hi = AX_max
  if (cb_lo == cb_hi) { cb_lo = logaxis ? cb_lo / 2 : cb_lo - 1; cb_hi = logaxis ? cb_hi * 2 : cb_hi + 1 }
  set cbrange [cb_lo:cb_hi]
  # I(X;Z) over a beta sweep spans decades (VIB's rates run from ~10 to ~1000 bits): log axis then,
  # its range the means' with a margin, each error bar clipped to it.
  x_lo = 1e300; x_hi = -1e300
  do for [si = 1:ns] {
    stats summary using (column(col(word(splits, si), ixz, "mean"))) nooutput name "XS"
    x_lo = XS_min < x_lo ? XS_min : x_lo; x_hi = XS_max > x_hi ? XS_max : x_hi
  }
  xlog = x_lo > 0 && x_hi / x_lo > 20
  if (xlog) { eval log_tics(x_lo, x_hi); x_lo = x_lo / 1.6; x_hi = x_hi * 1.6; set xrange [x_lo:x_hi] } \
  else { unset logscale x; set format x "%g"; set xtics autofreq; set xrange [*:*] }
  clip(v) = xlog ? (v < x_lo ? x_lo : v > x_hi ? x_hi : v) : v
  has_exact = exact ne "" ? 1 : 0
  plot for [e = 1:has_exact] exact using 2:3 with lines lw 1.5 lc rgb "#000000" title "exact IB curve", \
       for [si = 1:ns] summary using (column(col(word(splits, si), ixz, "mean"))):(connect ? column(col(word(splits, si), izy, "mean")) : NaN) \
         with lines lw 1.2 dt split_dt(word(splits, si)) lc rgb "#7f7f7f", \
       for [si = 1:ns] summary using (column(col(word(splits, si), ixz, "mean"))):(column(col(word(splits, si), izy, "mean"))): \
         (clip(column(col(word(splits, si), ixz, "mean")) - column(col(word(splits, si), ixz, "ci95")))): \
         (clip(column(col(word(splits, si), ixz, "mean")) + column(col(word(splits, si), ixz, "ci95")))): \
         (column(col(word(splits, si), izy, "mean")) - column(col(word(splits, si), izy, "ci95"))): \
         (column(col(word(splits, si), izy, "mean")) + column(col(word(splits, si), izy, "ci95"))):(column(axis)) \
         with xyerrorbars pt split_pt(word(splits, si)) ps 1 lw 1 lc palette z, \
       for [si = 1:ns] keyentry with linespoints dt split_dt(word(splits, si)) pt split_pt(word(splits, si)) lc rgb "#303030" title split_title(word(splits, si))
  unset multiplot
  set output
}
