# training_curve.gp: loss and error rate per epoch, train (dashed) and test (solid), one colour
# per configuration (the seeds of one configuration share it), with one legend below both panels. vibrun writes the variables below and this
# script into runs/<exp>/plots/; edit and re-run with `gnuplot training_curve.gp` there, or redraw
# all with `vibrun plot runs/<exp>`.
#   files  : space-separated metrics.csv paths (rows alternate train, test for each epoch)
#   group  : space-separated, for each file its configuration (1-based): its colour
#   ng, GT : the number of configurations and an array of their legend entries (the params that
#            differ between configurations, seeds left out); GN: each one's number of seeds
#   band   : "" or a CSV beside this script (group,split,epoch,n,loss_mean,loss_lo,loss_hi,error_mean,
#            error_lo,error_hi): for each configuration with several seeds, per split and epoch, the
#            mean over its seeds and the bounds of the 95% Student-t interval (summary.csv's ci95);
#            those seeds are drawn thin, the mean as a line and the interval as a band
#   out    : output path without extension (one file per format of `formats`)
#   title  : the figure's title
# More than 40 points: no legend (the colours repeat every 10 anyway).

nf = words(files)
stats word(files, 1) using "epoch" nooutput
xmax = STATS_max < 1 ? 1 : STATS_max
gc(i) = qc(word(group, i) - 1)
if (!exists("band")) band = ""
if (!exists("GN")) { array GN[ng]; do for [k = 1:ng] { GN[k] = 1 } }
multi(i) = band ne "" && GN[word(group, i) + 0] > 1
seed_lw(i) = multi(i) ? 0.6 : 1.5
# on the log axes a band's lower bound below 0 is clipped at the axis
pos(v) = v > 0 ? v : NaN
bsel(g, s) = column("group") == g && strcol("split") eq s
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
    plot for [g = 1:(band ne "" ? ng : 0)] band using (bsel(g, "test") && GN[g] > 1 ? column("epoch") : NaN):(pos(column("loss_lo"))):"loss_hi" \
           with filledcurves fs transparent solid 0.22 noborder lc rgb qc(g - 1), \
         for [i=1:nf] word(files,i) every 2::0 using "epoch":"loss_bits" with lines lw seed_lw(i) dt 2 lc rgb gc(i), \
         for [i=1:nf] word(files,i) every 2::1 using "epoch":"loss_bits" with linespoints pt 7 ps (multi(i) ? 0.2 : 0.5) lw (multi(i) ? 0.6 : 2) lc rgb gc(i), \
         for [g = 1:(band ne "" ? ng : 0)] band using (bsel(g, "train") && GN[g] > 1 ? column("epoch") : NaN):"loss_mean" with lines lw 2 dt 2 lc rgb qc(g - 1), \
         for [g = 1:(band ne "" ? ng : 0)] band using (bsel(g, "test") && GN[g] > 1 ? column("epoch") : NaN):"loss_mean" with lines lw 2.4 lc rgb qc(g - 1)
    eval panel(1, 2, 1, 2)
    set ylabel "error rate"
    plot for [g = 1:(band ne "" ? ng : 0)] band using (bsel(g, "test") && GN[g] > 1 ? column("epoch") : NaN):(pos(column("error_lo"))):"error_hi" \
           with filledcurves fs transparent solid 0.22 noborder lc rgb qc(g - 1), \
         for [i=1:nf] word(files,i) every 2::0 using "epoch":"error" with lines lw seed_lw(i) dt 2 lc rgb gc(i), \
         for [i=1:nf] word(files,i) every 2::1 using "epoch":"error" with linespoints pt 7 ps (multi(i) ? 0.2 : 0.5) lw (multi(i) ? 0.6 : 2) lc rgb gc(i), \
         for [g = 1:(band ne "" ? ng : 0)] band using (bsel(g, "train") && GN[g] > 1 ? column("epoch") : NaN):"error_mean" with lines lw 2 dt 2 lc rgb qc(g - 1), \
         for [g = 1:(band ne "" ? ng : 0)] band using (bsel(g, "test") && GN[g] > 1 ? column("epoch") : NaN):"error_mean" with lines lw 2.4 lc rgb qc(g - 1)
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
