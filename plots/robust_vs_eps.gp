# robust_vs_eps.gp: one point's accuracy against epsilon, one line per attack and protocol (the
# clean accuracy of the attacked examples dotted), read from its attack.csv: the paper's protocol
# dashed, the adaptive one solid.
# vibrun writes the variables above and this script into runs/<exp>/plots/; edit and re-run with
# `gnuplot <name>.gp` there, or redraw every figure with `vibrun plot runs/<exp>`.
#   attack    : the point's attack.csv
#   ATK, PROTO, NORM, TGT: per line, the attack.csv values of attack, protocol, norm and targeted
#   LABEL     : per line, its legend title
#   clean     : the clean accuracy of the attacked examples
#   title, out: the figure's title and its path without extension

n = |ATK|
row_dt(i) = PROTO[i] eq "adaptive" ? 1 : 2
is_row(i) = strcol("attack") eq ATK[i] && strcol("protocol") eq PROTO[i] && strcol("norm") eq NORM[i] && \
            strcol("targeted") eq TGT[i]
do for [fmt in formats] {
  eval term(fmt)
  set output out.".".fmt
  eval style
  set title title
  set xlabel "ε (pixels of [0, 1])"
  set ylabel "accuracy"
  set yrange [0:*]
  set xrange [0:*]
  set format x "%g"
  set key outside right center vertical samplen 2.5 spacing 1.0
  plot for [i = 1:n] attack using (is_row(i) ? column("eps") : NaN):(is_row(i) ? column("robust_acc") : NaN) \
         with linespoints lw 1.5 dt row_dt(i) pt 7 ps 0.6 lc rgb qc(i - 1) title LABEL[i], \
       clean with lines lw 0.8 dt 3 lc rgb "#808080" title "clean"
  unset output
}
