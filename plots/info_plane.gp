# info_plane.gp: the information plane of one point: I(Z;Y) against I(X;Z) of each layer over
# training. One trajectory per layer (a line in the layer's colour, labelled at its last epoch),
# markers coloured by epoch on a log scale, one marker shape per estimator, so the gap between the
# variational bounds and the non-parametric estimates shows. Train and test panels side by side;
# with per_layer = 1, one panel per layer (rows train, test): the planes of a multi-bottleneck net.
# vibrun writes the variables above and this script into runs/<exp>/plots/; edit and re-run with
# `gnuplot <name>.gp` there, or redraw every figure with `vibrun plot runs/<exp>`.
#   info       : the point's info.csv (epoch,split,layer,estimator,ixz_bits,izy_bits,...)
#   layers     : space-separated layer names to draw, in colour order
#   estimators : space-separated estimators to draw (variational kde_upper kde_lower binning ksg plugin)
#   splits     : "train test", or one of them
#   per_layer  : 1 for one panel per layer
#   note       : a warning printed under the panels ("" for none), e.g. binning clipped activations
#   check_ixz, check_izy : the estimators' errors on known-MI tasks at this n and d (selfcheck.csv),
#                a line each under a heading above the legend ("" for none)
#   audit      : 1 when info.csv has the audit's columns (ixz_lo, ixz_hi, izy_lo, izy_hi,
#                distinct_from_zero): each estimate's interval as error bars, and the estimates
#                not told apart from zero (distinct_from_zero = 0) in grey
#   title, out : the figure's title and its path without extension

nl = words(layers); ne = words(estimators); ns = words(splits)
if (!exists("audit")) audit = 0
told(dummy) = !audit || column("distinct_from_zero") != 0
est_pt(e) = e eq "variational" ? 7 : e eq "kde_upper" ? 9 : e eq "kde_lower" ? 11 : \
            e eq "binning" ? 5 : e eq "ksg" ? 13 : e eq "plugin" ? 15 : 1
est_title(e) = e eq "variational" ? "variational bounds" : e eq "kde_upper" ? "KDE upper (KL)" : \
               e eq "kde_lower" ? "KDE lower (Bhatt.)" : e eq "binning" ? "binning" : \
               e eq "ksg" ? "KSG k-NN" : e eq "plugin" ? "plug-in (binary)" : e
sel(s, l, e) = strcol("split") eq s && strcol("layer") eq l && strcol("estimator") eq e && finite(column("izy_bits"))
kept(s) = inlist(s, splits) && inlist(strcol("layer"), layers) && \
          inlist(strcol("estimator"), estimators) && finite(column("izy_bits"))

# One scale for every panel, so train and test (or the layers) compare at a glance.
undefine IXZ_* IZY_* EP_*
stats info using (kept(strcol("split")) ? column("ixz_bits") : NaN) name "IXZ" nooutput
stats info using (kept(strcol("split")) ? column("izy_bits") : NaN) name "IZY" nooutput
stats info using (kept(strcol("split")) ? column("epoch") : NaN) name "EP" nooutput
if (!exists("IXZ_max")) { IXZ_min = 0; IXZ_max = 1; IZY_min = 0; IZY_max = 1; EP_max = 1 }
pad(lo, hi) = (hi - lo > 0 ? hi - lo : 1) * 0.06
x_lo = IXZ_min < 0 ? IXZ_min - pad(IXZ_min, IXZ_max) : 0
y_lo = IZY_min < 0 ? IZY_min - pad(IZY_min, IZY_max) : 0
ep_top = EP_max + 1 > 2 ? EP_max + 1 : 2

# The last epoch of each layer's first estimator with data (where its label goes), per split.
array LEND[ns * nl]
array LEST[ns * nl]
do for [si = 1:ns] {
  do for [li = 1:nl] {
    LEND[(si - 1) * nl + li] = NaN
    LEST[(si - 1) * nl + li] = ""
    do for [ei = 1:ne] {
      if (LEST[(si - 1) * nl + li] eq "") {
        undefine LE_*
        stats info using (sel(word(splits, si), word(layers, li), word(estimators, ei)) ? column("epoch") : NaN) name "LE" nooutput
        if (exists("LE_max")) { LEND[(si - 1) * nl + li] = LE_max; LEST[(si - 1) * nl + li] = word(estimators, ei) }
      }
    }
  }
}

rows = per_layer ? ns : 1
cols = per_layer ? nl : ns
title_len = 0
do for [ei = 1:ne] { title_len = strlen(est_title(word(estimators, ei))) > title_len ? strlen(est_title(word(estimators, ei))) : title_len }
leg_h = (leg_rows(ne, title_len) + 0.3) * 1.1 * lh
checks = (check_ixz eq "" ? 0 : 1) + (check_izy eq "" ? 0 : 1)
checks = checks > 0 ? checks + 1 : 0      # and the heading
grid_b = leg_h + (note eq "" ? 0 : 1.1 * lh) + checks * 1.1 * lh + 4.0 * lh
grid_r = 1 - 10 * cw - 2 * lx         # room for the colour bar, its tick labels and title
do for [fmt in formats] {
  eval term(fmt)
  set output out.".".fmt
  set multiplot title title
  do for [si = 1:ns] {
    do for [pj = 1:(per_layer ? nl : 1)] {
      eval style
      r = per_layer ? si : 1
      c = per_layer ? pj : si
      eval panel(r, c, rows, cols)
      s = word(splits, si)
      panel_layers = per_layer ? word(layers, pj) : layers
      set title (per_layer ? word(layers, pj)." (".s.")" : s) noenhanced offset 0, -0.7
      set xrange [x_lo:IXZ_max + pad(0, IXZ_max)]
      set yrange [y_lo:IZY_max + pad(0, IZY_max)]
      set xtics nice_step(IXZ_max + pad(0, IXZ_max) - x_lo)
      set ytics nice_step(IZY_max + pad(0, IZY_max) - y_lo)
      set xlabel "I(X;Z) (bits)"
      if (c == 1) { set ylabel "I(Z;Y) (bits)" } else { unset ylabel }
      # colour = epoch + 1 on a log scale: epoch 0 (before training) sits at the bottom of the bar
      set logscale cb
      set cbrange [1:ep_top]
      set cblabel "epoch" offset 0.5,0
      set cbtics ("0" 1)
      do for [k = 0:30] {
        e = EP_max <= 64 ? 2**k : int(10**(k / 3) * word("1 2 5", k % 3 + 1))
        if (e <= EP_max) { eval sprintf('set cbtics add ("%d" %d)', e, e + 1) }
      }
      if (r == rows && c == cols) {
        set colorbox user origin screen grid_r + 2 * cw, screen grid_b size screen 1.2 * cw, screen grid_t - grid_b
      } else {
        unset colorbox
      }
      plot for [li = 1:nl] for [ei = 1:ne] info \
             using (sel(s, word(layers, li), word(estimators, ei)) && inlist(word(layers, li), panel_layers) ? column("ixz_bits") : NaN):"izy_bits" \
             with lines lw 1.2 lc rgb qc(li - 1), \
           for [a = 1:audit] for [li = 1:nl] for [ei = 1:ne] info \
             using (sel(s, word(layers, li), word(estimators, ei)) && inlist(word(layers, li), panel_layers) ? column("ixz_bits") : NaN):"izy_bits":"ixz_lo":"ixz_hi":"izy_lo":"izy_hi" \
             with xyerrorbars pt -1 lw 0.6 lc rgb "#9f9f9f", \
           for [li = 1:nl] for [ei = 1:ne] info \
             using (sel(s, word(layers, li), word(estimators, ei)) && inlist(word(layers, li), panel_layers) && told(0) ? column("ixz_bits") : NaN):"izy_bits":(column("epoch") + 1) \
             with points pt est_pt(word(estimators, ei)) ps 0.8 lc palette z, \
           for [a = 1:audit] for [li = 1:nl] for [ei = 1:ne] info \
             using (sel(s, word(layers, li), word(estimators, ei)) && inlist(word(layers, li), panel_layers) && !told(0) ? column("ixz_bits") : NaN):"izy_bits" \
             with points pt est_pt(word(estimators, ei)) ps 0.8 lc rgb "#b7b7b7", \
           for [li = 1:nl] info \
             using (inlist(word(layers, li), panel_layers) && sel(s, word(layers, li), LEST[(si - 1) * nl + li]) && column("epoch") == LEND[(si - 1) * nl + li] ? column("ixz_bits") : NaN):"izy_bits":(word(layers, li)) \
             with labels left offset char 0.6, char 0.5 tc rgb qc(li - 1) font ",8" noenhanced
    }
  }
  # the legend of the estimators' markers, and the note, across the bottom
  eval leg_strip
  if (note ne "") { set label 1 note at screen 0.5, screen leg_h + (0.4 + checks * 1.1) * lh center font ",8" tc rgb "#b00000" front }
  if (checks > 0) { set label 4 "self-check at each layer's n and d, true I(X;Z) = 0.5 log2 n (selfcheck.csv), error in bits:" \
                      at screen 0.5, screen leg_h + (0.4 + (checks - 1) * 1.1) * lh center font ",7" tc rgb "#404040" front noenhanced }
  if (check_ixz ne "") { set label 2 check_ixz at screen 0.5, screen leg_h + ((check_izy eq "" ? 0 : 1.1) + 0.4) * lh center font ",7" tc rgb "#404040" front noenhanced }
  if (check_izy ne "") { set label 3 check_izy at screen 0.5, screen leg_h + 0.4 * lh center font ",7" tc rgb "#404040" front noenhanced }
  plot for [ei = 1:ne] '+' using (leg_x(ei, ne, title_len)):(leg_y(ei, ne, title_len)) every ::0::0 \
         with points pt est_pt(word(estimators, ei)) ps 0.9 lc rgb "#303030", \
       for [ei = 1:ne] '+' using (leg_x(ei, ne, title_len) + 1.5 * cw):(leg_y(ei, ne, title_len)):(est_title(word(estimators, ei))) \
         every ::0::0 with labels left
  unset label 1; unset label 2; unset label 3; unset label 4
  unset multiplot
  set output
}
