# training_curve.gp: loss and error rate per epoch, train (dashed) and test (solid), one colour
# per sweep point. vibrun writes the variables below and this script into runs/<exp>/plots/;
# edit and re-run with `gnuplot training_curve.gp` there, or redraw all with `vibrun plot runs/<exp>`.
#   files  : space-separated metrics.csv paths (rows alternate train, test for each epoch)
#   titles : space-separated legend entries, one per file
#   out    : output path without extension (one file per format of `formats`)

eval style
set key inside right top box opaque samplen 2 font ",8"
set xlabel "epoch"
set xrange [0:*]
nf = words(files)
stats word(files,1) using "epoch" nooutput
if (STATS_max <= 10) { set xtics 1 }
if (STATS_max < 1) { set xrange [0:1] }

do for [fmt in formats] {
    eval term(fmt)
    set output out.".".fmt
    set multiplot layout 1,2 title "training curves: train (dashed), test (solid); log y axes"
    set ylabel "loss (bits per example)"
    set logscale y
    plot for [i=1:nf] word(files,i) every 2::0 using "epoch":"loss_bits" with lines lw 1.5 dt 2 lc rgb qc(i - 1) notitle, \
         for [i=1:nf] word(files,i) every 2::1 using "epoch":"loss_bits" with linespoints pt 7 ps 0.5 lw 2 lc rgb qc(i - 1) title word(titles,i) noenhanced
    set ylabel "error rate"
    plot for [i=1:nf] word(files,i) every 2::0 using "epoch":"error" with lines lw 1.5 dt 2 lc rgb qc(i - 1) notitle, \
         for [i=1:nf] word(files,i) every 2::1 using "epoch":"error" with linespoints pt 7 ps 0.5 lw 2 lc rgb qc(i - 1) title word(titles,i) noenhanced
    unset logscale y
    unset multiplot
    set output
}
