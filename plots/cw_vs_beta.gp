# cw_vs_beta.gp: the L2 distortion of Carlini-Wagner's successful perturbations against beta (VIB's
# Figure 4), per C&W attack of the sweep: the median over the attacked examples (solid, summary.csv)
# and their mean (dashed, the points' attack.csv), each the mean over seeds with its 95% interval
# as a band; the deterministic model of the sweep as thin horizontal lines of the same styles.
# vibrun writes the variables above and this script into runs/<exp>/plots/; edit and re-run with
# `gnuplot <name>.gp` there, or redraw every figure with `vibrun plot runs/<exp>`.
#   data      : a CSV with beta and, per attack stem s, l2_median_<s>_mean, l2_median_<s>_ci95,
#               l2_mean_<s>_mean, l2_mean_<s>_ci95 (the means over seeds and their interval)
#   STEM      : per series, its stem (cw_l2 or cw_l2_targeted); LABEL its legend title
#   REFMED, REFMEAN: the deterministic model's median and mean distortion (NaN: none)
#   title, out: the figure's title and its path without extension

n = |STEM|
med(i) = "l2_median_".STEM[i]
avg(i) = "l2_mean_".STEM[i]
undefine A_*
stats data using 1 name "A" nooutput
do for [fmt in formats] {
  eval term(fmt)
  set output out.".".fmt
  eval style
  set title title
  if (A_min > 0) { eval log_tics(A_min, A_max) } else { unset logscale x; set format x "%g" }
  if (A_min < A_max) { set xrange [A_min:A_max] }
  set xlabel "β"
  set ylabel "L2 distortion (pixels of [0, 1])"
  set yrange [0:*]
  set key outside right center vertical samplen 2.5 spacing 1.0
  set style fill transparent solid 0.18 noborder
  plot for [i = 1:n] data using 1:(column(med(i)."_mean") - column(med(i)."_ci95")):(column(med(i)."_mean") + column(med(i)."_ci95")) \
         with filledcurves lc rgb qc(i - 1) notitle, \
       for [i = 1:n] data using 1:(column(avg(i)."_mean") - column(avg(i)."_ci95")):(column(avg(i)."_mean") + column(avg(i)."_ci95")) \
         with filledcurves lc rgb qc(i - 1) notitle, \
       for [i = 1:n] data using 1:(column(med(i)."_mean")) with linespoints lw 1.5 dt 1 pt 7 ps 0.6 lc rgb qc(i - 1) \
         title LABEL[i]." median", \
       for [i = 1:n] data using 1:(column(avg(i)."_mean")) with linespoints lw 1.5 dt 2 pt 6 ps 0.6 lc rgb qc(i - 1) \
         title LABEL[i]." mean", \
       for [i = 1:n] (finite(REFMED[i]) ? REFMED[i] : NaN) with lines lw 0.8 dt 1 lc rgb qc(i - 1) \
         title (finite(REFMED[i]) ? LABEL[i].", det" : ""), \
       for [i = 1:n] (finite(REFMEAN[i]) ? REFMEAN[i] : NaN) with lines lw 0.8 dt 2 lc rgb qc(i - 1) notitle
  unset output
}
