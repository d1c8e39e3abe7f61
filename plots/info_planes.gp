# info_planes.gp: the information planes of a whole sweep as small multiples: one column per
# configuration (a value of the swept params, its seeds together), one row per estimator family,
# every panel square; the panels of a row share their axes (each estimator has its own range, so the
# variational bound's hundreds of bits do not squash the KDE's few). In a panel, each layer of each
# seed is a trajectory over training (Shwartz-Ziv & Tishby): markers coloured by epoch, one marker
# shape per layer, seeds as thin grey lines, and with several seeds their mean as a dark line with
# 95% intervals. One split (test when measured).
# vibrun writes the variables above and this script into runs/<exp>/plots/; edit and re-run with
# `gnuplot <name>.gp` there, or redraw every figure with `vibrun plot runs/<exp>`.
#   files      : the points' info.csv, space-separated
#   panel_of   : for each file, its column (1-based), space-separated
#   nc, PT     : the number of columns, and an array of their titles ("β = 0.001")
#   estimators : one per row; ET an array of the rows' names
#   x_lo, x_hi, y_lo, y_hi : arrays of each row's axis range (bits), computed by vibrun over every file
#   layers     : layer names (marker shapes); split: "test" or "train"; ep_max: the last epoch
#   means      : "" or a CSV beside this script (panel,estimator,layer,epoch,n,ixz_mean,ixz_lo,ixz_hi,
#                izy_mean,izy_lo,izy_hi): for a configuration with several seeds, per layer and epoch
#                the mean over its seeds and the bounds of the 95% Student-t intervals, drawn as a
#                dark line with the intervals as error bars
#   title, out : the figure's title and its path without extension

nf = words(files); nr = words(estimators); nl = words(layers)
if (!exists("means")) means = ""
msel(c, l, e) = column("panel") == c && strcol("layer") eq l && strcol("estimator") eq e
layer_pt(i) = word("7 5 9 11 13 15 4 6 8 10", (int(i) - 1) % 10 + 1) + 0
sel(l, e) = strcol("split") eq split && strcol("layer") eq l && strcol("estimator") eq e && finite(column("izy_bits"))

leg_len = 0
do for [li = 1:nl] { leg_len = strlen(word(layers, li)) > leg_len ? strlen(word(layers, li)) : leg_len }
leg_h = (leg_rows(nl, leg_len) + 0.3) * 1.1 * lh
grid_b = leg_h + 4.0 * lh
grid_r = 1 - 10 * cw - 2 * lx         # room for the colour bar, its tick labels and title
grid_l = grid_l + 2.2 * lx            # room for the row names
do for [fmt in formats] {
  eval term(fmt)
  set output out.".".fmt
  set multiplot title title
  do for [ri = 1:nr] {
    do for [ci = 1:nc] {
      eval style
      eval panel(ri, ci, nr, nc)
      set size noratio
      if (ri == 1) { set title PT[ci] noenhanced offset 0, -0.7 } else { unset title }
      set xrange [x_lo[ri]:x_hi[ri]]
      set yrange [y_lo[ri]:y_hi[ri]]
      set xtics autofreq; set ytics autofreq
      set mxtics 2; set mytics 2
      set xlabel "I(X;Z) (bits)"
      if (ci == 1) { set ylabel ET[ri]."\nI(Z;Y) (bits)" noenhanced; set format y "%g" } else { unset ylabel; set format y "" }
      # colour = epoch + 1 on a log scale: epoch 0 (before training) at the bottom of the bar
      set logscale cb
      set cbrange [1:ep_max + 1 > 2 ? ep_max + 1 : 2]
      set cblabel "epoch" offset 0.5,0
      set cbtics ("0" 1)
      do for [k = 0:30] {
        e = ep_max <= 64 ? 2**k : int(10**(k / 3) * word("1 2 5", k % 3 + 1))
        if (e <= ep_max) { eval sprintf('set cbtics add ("%d" %d)', e, e + 1) }
      }
      if (ri == 1 && ci == nc) {
        set colorbox user origin screen grid_r + 2 * cw, screen grid_b size screen 1.2 * cw, screen grid_t - grid_b
      } else {
        unset colorbox
      }
      e = word(estimators, ri)
      plot for [fi = 1:nf] for [li = 1:nl] word(files, fi) \
             using (word(panel_of, fi) + 0 == ci && sel(word(layers, li), e) ? column("ixz_bits") : NaN):"izy_bits" \
             with lines lw 0.6 lc rgb "#9a9a9a", \
           for [fi = 1:nf] for [li = 1:nl] word(files, fi) \
             using (word(panel_of, fi) + 0 == ci && sel(word(layers, li), e) ? column("ixz_bits") : NaN):"izy_bits":(column("epoch") + 1) \
             with points pt layer_pt(li) ps 0.6 lc palette z, \
           for [m = 1:(means ne "" ? 1 : 0)] for [li = 1:nl] means \
             using (msel(ci, word(layers, li), e) ? column("ixz_mean") : NaN):"izy_mean":"ixz_lo":"ixz_hi":"izy_lo":"izy_hi" \
             with xyerrorbars pt -1 lw 0.7 lc rgb "#303030", \
           for [m = 1:(means ne "" ? 1 : 0)] for [li = 1:nl] means \
             using (msel(ci, word(layers, li), e) ? column("ixz_mean") : NaN):"izy_mean" with lines lw 1.4 lc rgb "#303030"
    }
  }
  # the layers' markers across the bottom
  eval leg_strip
  plot for [li = 1:nl] '+' using (leg_x(li, nl, leg_len)):(leg_y(li, nl, leg_len)) every ::0::0 \
         with points pt layer_pt(li) ps 0.9 lc rgb "#303030", \
       for [li = 1:nl] '+' using (leg_x(li, nl, leg_len) + 1.5 * cw):(leg_y(li, nl, leg_len)):(word(layers, li)) \
         every ::0::0 with labels left noenhanced
  unset multiplot
  set output
}
