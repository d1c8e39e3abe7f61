# training_curve.gp: loss and error rate per epoch, train (dashed) and test (solid), one colour
# per sweep point. vibrun writes the variables below and this script into runs/<exp>/plots/;
# edit and re-run with `gnuplot training_curve.gp` there, or redraw all with `vibrun plot runs/<exp>`.
#   files  : space-separated metrics.csv paths (rows alternate train, test for each epoch)
#   titles : space-separated legend entries, one per file
#   out    : output path without extension (.png and .svg are written)

set datafile separator ","
set datafile columnheaders
set grid lw 0.5 lc rgb "#dddddd"
set border lw 1.2
set key inside right top box opaque samplen 2 font ",9"
set xlabel "epoch"
set xrange [0:*]
nf = words(files)
stats word(files,1) using "epoch" nooutput
if (STATS_max <= 20) { set xtics 1 }
if (STATS_max < 1) { set xrange [0:1] }

do for [fmt in "png svg"] {
    if (fmt eq "png") {
        set terminal pngcairo size 1400,520 font "sans,11" enhanced
    } else {
        set terminal svg size 1400,520 font "sans,11" enhanced dynamic
    }
    set output out.".".fmt
    set multiplot layout 1,2 title "training curves: train (dashed), test (solid)"
    set ylabel "loss (bits per example, log scale)"
    set logscale y
    plot for [i=1:nf] word(files,i) every 2::0 using "epoch":"loss_bits" with lines lw 1.5 dt 2 lc i notitle, \
         for [i=1:nf] word(files,i) every 2::1 using "epoch":"loss_bits" with linespoints pt 7 ps 0.5 lw 2 lc i title word(titles,i) noenhanced
    set ylabel "error rate (log scale)"
    plot for [i=1:nf] word(files,i) every 2::0 using "epoch":"error" with lines lw 1.5 dt 2 lc i notitle, \
         for [i=1:nf] word(files,i) every 2::1 using "epoch":"error" with linespoints pt 7 ps 0.5 lw 2 lc i title word(titles,i) noenhanced
    unset logscale y
    unset multiplot
    set output
}
