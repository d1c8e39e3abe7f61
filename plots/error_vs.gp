# error_vs.gp: error rates and information against a swept parameter (VIB's Figure 1): panel 1
# the error of each evaluation (train dashed, test solid; mean over seeds with 95% confidence
# intervals), then I(X;Z) and I(Z;Y) of one layer and estimator, log x axis.
# vibrun writes the variables above and this script into runs/<exp>/plots/; edit and re-run with
# `gnuplot <name>.gp` there, or redraw every figure with `vibrun plot runs/<exp>`.
#   summary   : summary.csv (one row per configuration: <col>_mean, <col>_sd, <col>_ci95)
#   axis      : the swept parameter's column; logaxis = 1 for a log x axis
#   connect   : 1 to join the configurations in file order (the axis is the only swept param);
#               0 when other params vary too: points with their intervals, not joined
#   errs      : error columns to draw (of train_error test_error test_error_det)
#   ixz, izy  : information column stems without split and statistic ("" to leave a panel out)
#   splits    : "train test", or one of them (for the information panels)
#   title, out: the figure's title and its path without extension

ns = words(splits); nerr = words(errs)
col(s, stem, stat) = s."_".stem."_".stat
axis_label = axis eq "beta" ? "β" : axis eq "gamma" ? "γ" : axis
err_title(c) = c eq "train_error" ? "train" : c eq "test_error" ? "test" : \
               c eq "test_error_det" ? "test, mean-field" : c
err_lc(c) = strstrt(c, "_det") ? C10[5] : C10[1]
err_dt(c) = c[1:5] eq "train" ? 2 : 1
err_pt(c) = c[1:5] eq "train" ? 6 : 7
npanel = 1 + (ixz ne "") + (izy ne "")
# log y where every mean is positive and they span more than a factor of 20
logy(lo, hi) = lo > 0 && hi / lo > 20
undefine A_*
stats summary using (column(axis)) name "A" nooutput
E_lo = 1e300; E_hi = -1e300
do for [k = 1:nerr] {
  undefine T_*
  stats summary using (column(word(errs, k)."_mean")) name "T" nooutput
  if (exists("T_min")) { E_lo = T_min < E_lo ? T_min : E_lo; E_hi = T_max > E_hi ? T_max : E_hi }
}
IX_lo = 1e300; IX_hi = -1e300; IY_lo = 1e300; IY_hi = -1e300
do for [si = 1:ns] {
  if (ixz ne "") { undefine T_*; stats summary using (column(col(word(splits, si), ixz, "mean"))) name "T" nooutput
                   if (exists("T_min")) { IX_lo = T_min < IX_lo ? T_min : IX_lo; IX_hi = T_max > IX_hi ? T_max : IX_hi } }
  if (izy ne "") { undefine T_*; stats summary using (column(col(word(splits, si), izy, "mean"))) name "T" nooutput
                   if (exists("T_min")) { IY_lo = T_min < IY_lo ? T_min : IY_lo; IY_hi = T_max > IY_hi ? T_max : IY_hi } }
}
grid_hgap = 9 * cw + 2.5 * lx
title_len = 0
do for [k = 1:nerr] { title_len = strlen(err_title(word(errs, k))) > title_len ? strlen(err_title(word(errs, k))) : title_len }
leg_h = (leg_rows(nerr, title_len) + 0.3) * 1.1 * lh
grid_b = leg_h + 4.0 * lh
do for [fmt in formats] {
  eval term(fmt)
  set output out.".".fmt
  set multiplot title title
  eval style
  # the x range a little wider than the values, so no point or error bar sits on the frame
  if (logaxis && A_min > 0) { eval log_tics(A_min, A_max); set xrange [A_min / 1.5:A_max * 1.5] } \
  else { unset logscale x; set format x "%g"; set offsets graph 0.05, graph 0.05, 0, 0 }
  set xlabel axis_label
  unset key
  eval panel(1, 1, 1, npanel)
  set ylabel "error rate"
  if (logy(E_lo, E_hi)) { set logscale y; set yrange [*:*] } else { unset logscale y; set yrange [0:*] }
  plot for [k = 1:nerr] summary using (column(axis)):(connect ? column(word(errs, k)."_mean") : NaN) \
         with lines lw 1.5 dt err_dt(word(errs, k)) lc rgb err_lc(word(errs, k)), \
       for [k = 1:nerr] summary using (column(axis)):(column(word(errs, k)."_mean")):(column(word(errs, k)."_ci95")) \
         with yerrorbars lw 1.5 pt err_pt(word(errs, k)) ps 0.7 lc rgb err_lc(word(errs, k))
  p = 1
  do for [which = 1:2] {
    stem = which == 1 ? ixz : izy
    if (stem ne "") {
      p = p + 1
      eval panel(1, p, 1, npanel)
      set ylabel (which == 1 ? "I(X;Z) (bits)" : "I(Z;Y) (bits)")
      if (which == 1 ? logy(IX_lo, IX_hi) : logy(IY_lo, IY_hi)) { set logscale y; set yrange [*:*] } \
      else { unset logscale y; set yrange [0:*] }
      plot for [si = 1:ns] summary using (column(axis)):(connect ? column(col(word(splits, si), stem, "mean")) : NaN) \
             with lines lw 1.5 dt split_dt(word(splits, si)) lc rgb C10[1], \
           for [si = 1:ns] summary using (column(axis)):(column(col(word(splits, si), stem, "mean"))):(column(col(word(splits, si), stem, "ci95"))) \
             with yerrorbars lw 1.5 pt split_pt(word(splits, si)) ps 0.7 lc rgb C10[1]
    }
  }
  # one legend for all panels: the information panels share the train / test styles
  eval leg_strip
  plot for [k = 1:nerr] '+' using (leg_seg(k, nerr, title_len, $0)):(leg_y(k, nerr, title_len)) every ::0::1 \
         with lines lw 1.5 dt err_dt(word(errs, k)) lc rgb err_lc(word(errs, k)), \
       for [k = 1:nerr] '+' using (leg_x(k, nerr, title_len)):(leg_y(k, nerr, title_len)) every ::0::0 \
         with points pt err_pt(word(errs, k)) ps 0.7 lc rgb err_lc(word(errs, k)), \
       for [k = 1:nerr] '+' using (leg_x(k, nerr, title_len) + 1.2 * cw):(leg_y(k, nerr, title_len)):(err_title(word(errs, k))) \
         every ::0::0 with labels left
  unset multiplot
  set output
}
