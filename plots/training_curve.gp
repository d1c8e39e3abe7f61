# training_curve.gp: loss and error rate per epoch, train (dashed) and test (solid), one colour
# per configuration (the seeds of one configuration share it), with one legend below both panels. vibrun writes the variables below and this
# script into runs/<exp>/plots/; edit and re-run with `gnuplot training_curve.gp` there, or redraw
# all with `vibrun plot runs/<exp>`.
#   files  : space-separated metrics.csv paths (rows alternate train, test for each epoch)
#   group  : space-separated, for each file its configuration (1-based): its colour
#   ng, GT : the number of configurations and an array of their legend entries (the params that
#            differ between configurations, seeds left out)
#   out    : output path without extension (one file per format of `formats`)
#   title  : the figure's title
# More than 40 points: no legend (the colours repeat every 10 anyway).

nf = words(files)
stats word(files, 1) using "epoch" nooutput
xmax = STATS_max < 1 ? 1 : STATS_max
gc(i) = qc(word(group, i) - 1)
title_len = 0
do for [k = 1:ng] { title_len = strlen(GT[k]) > title_len ? strlen(GT[k]) : title_len }
show_key = ng <= 40
leg_h = show_key ? (leg_rows(ng, title_len) + 0.3) * 1.1 * lh : 0
grid_b = leg_h + 4.0 * lh
grid_hgap = 9 * cw + 2.5 * lx

do for [fmt in formats] {
    eval term(fmt)
    set output out.".".fmt
    set multiplot title title
    eval style
    set xlabel "epoch"
    set xrange [0:xmax]
    if (xmax <= 10) { set xtics 1 } else { set xtics autofreq }
    set logscale y
    unset key
    eval panel(1, 1, 1, 2)
    set ylabel "loss (bits per example)"
    plot for [i=1:nf] word(files,i) every 2::0 using "epoch":"loss_bits" with lines lw 1.5 dt 2 lc rgb gc(i), \
         for [i=1:nf] word(files,i) every 2::1 using "epoch":"loss_bits" with linespoints pt 7 ps 0.5 lw 2 lc rgb gc(i)
    eval panel(1, 2, 1, 2)
    set ylabel "error rate"
    plot for [i=1:nf] word(files,i) every 2::0 using "epoch":"error" with lines lw 1.5 dt 2 lc rgb gc(i), \
         for [i=1:nf] word(files,i) every 2::1 using "epoch":"error" with linespoints pt 7 ps 0.5 lw 2 lc rgb gc(i)
    if (show_key) {
        eval leg_strip
        plot for [i = 1:ng] '+' using (leg_seg(i, ng, title_len, $0)):(leg_y(i, ng, title_len)) every ::0::1 \
               with lines lw 2 lc rgb qc(i - 1), \
             for [i = 1:ng] '+' using (leg_x(i, ng, title_len)):(leg_y(i, ng, title_len)) every ::0::0 \
               with points pt 7 ps 0.5 lc rgb qc(i - 1), \
             for [i = 1:ng] '+' using (leg_x(i, ng, title_len) + 1.2 * cw):(leg_y(i, ng, title_len)):(GT[i]) \
               every ::0::0 with labels left noenhanced
    }
    unset multiplot
    set output
}
