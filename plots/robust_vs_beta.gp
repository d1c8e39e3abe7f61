# robust_vs_beta.gp: robust accuracy against beta (VIB's Figure 3, accuracy under attack), one line
# per attack and epsilon: the paper's protocol (fgsm, pgd) dashed, the adaptive one (auto) solid,
# colour by epsilon; the deterministic model of the sweep as a thin horizontal line per series.
# vibrun writes the variables above and this script into runs/<exp>/plots/; edit and re-run with
# `gnuplot <name>.gp` there, or redraw every figure with `vibrun plot runs/<exp>`.
#   data      : a CSV with beta and one column per series (the mean robust accuracy over seeds)
#   series    : the series' column names (words)
#   LABEL     : per series, its legend title; KIND: fgsm, pgd or auto; EPSI: its epsilon's index
#               (colour); REF: the deterministic model's robust accuracy (NaN: none)
#   title, out: the figure's title and its path without extension

n = words(series)
kind_dt(k) = k eq "auto" ? 1 : k eq "pgd" ? 2 : 3
kind_pt(k) = k eq "auto" ? 7 : k eq "pgd" ? 5 : 9
undefine A_*
stats data using 1 name "A" nooutput
do for [fmt in formats] {
  eval term(fmt)
  set output out.".".fmt
  eval style
  set title title
  if (A_min > 0) { eval log_tics(A_min, A_max) } else { unset logscale x; set format x "%g" }
  set xlabel "β"
  set ylabel "robust accuracy"
  set yrange [0:*]
  set key outside right center vertical samplen 2.5 spacing 1.0
  plot for [i = 1:n] data using 1:(column(word(series, i))) with linespoints lw 1.5 \
         dt kind_dt(KIND[i]) pt kind_pt(KIND[i]) ps 0.6 lc rgb qc(EPSI[i] - 1) title LABEL[i], \
       for [i = 1:n] (finite(REF[i]) ? REF[i] : NaN) with lines lw 0.8 dt kind_dt(KIND[i]) \
         lc rgb qc(EPSI[i] - 1) notitle
  unset output
}
