# info_plane.gp: the information plane of one point: I(Z;Y) against I(X;Z) of each layer over
# training. One trajectory per layer (a line in the layer's colour, named in the key below),
# markers coloured by epoch on a log scale, one marker shape per estimator. A row of square panels
# per estimator family (variational bounds, KDE bounds, binning, KSG, plug-in), each row on its own
# axis range so that the variational bound's hundreds of bits do not squash the KDE's few; train
# and test side by side. With per_layer = 1, one panel per layer (rows train, test) on one range:
# the planes of a multi-bottleneck net.
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

# The families of estimators: each its own row and axis range (KDE's two bounds share one).
fam(e) = (e eq "kde_upper" || e eq "kde_lower") ? "kde" : e
fam_title(f) = f eq "variational" ? "variational bounds" : f eq "kde" ? "KDE bounds" : f eq "binning" ? "binning" : \
               f eq "ksg" ? "KSG k-NN" : f eq "plugin" ? "plug-in (binary)" : f
families = ""
do for [ei = 1:ne] { if (!inlist(fam(word(estimators, ei)), families)) { families = families.(families eq "" ? "" : " ").fam(word(estimators, ei)) } }
nfam = per_layer ? 1 : words(families)
in_fam(e, fi) = per_layer || fam(e) eq word(families, fi)
pad(lo, hi) = (hi - lo > 0 ? hi - lo : 1) * 0.06
# Each family's range over both splits (every estimate when per_layer), so train and test compare.
array FX_lo[nfam]; array FX_hi[nfam]; array FY_lo[nfam]; array FY_hi[nfam]
ep_all = 1
do for [fi = 1:nfam] {
  undefine IXZ_* IZY_* EP_*
  stats info using (kept(strcol("split")) && in_fam(strcol("estimator"), fi) ? column("ixz_bits") : NaN) name "IXZ" nooutput
  stats info using (kept(strcol("split")) && in_fam(strcol("estimator"), fi) ? column("izy_bits") : NaN) name "IZY" nooutput
  stats info using (kept(strcol("split")) && in_fam(strcol("estimator"), fi) ? column("epoch") : NaN) name "EP" nooutput
  if (!exists("IXZ_max")) { IXZ_min = 0; IXZ_max = 1; IZY_min = 0; IZY_max = 1; EP_max = 1 }
  FX_lo[fi] = IXZ_min < 0 ? IXZ_min - pad(IXZ_min, IXZ_max) : 0
  FY_lo[fi] = IZY_min < 0 ? IZY_min - pad(IZY_min, IZY_max) : 0
  FX_hi[fi] = IXZ_max + pad(0, IXZ_max)
  FY_hi[fi] = IZY_max + pad(0, IZY_max)
  ep_all = EP_max > ep_all ? EP_max : ep_all
}
EP_max = ep_all
ep_top = EP_max + 1 > 2 ? EP_max + 1 : 2

rows = per_layer ? ns : nfam
cols = per_layer ? nl : ns
# the key: the layers' colours, then the estimators' markers
nk = nl + ne
key_title(k) = k <= nl ? word(layers, k) : est_title(word(estimators, k - nl))
title_len = 0
do for [k = 1:nk] { title_len = strlen(key_title(k)) > title_len ? strlen(key_title(k)) : title_len }
leg_h = (leg_rows(nk, title_len) + 0.3) * 1.1 * lh
checks = (check_ixz eq "" ? 0 : 1) + (check_izy eq "" ? 0 : 1)
checks = checks > 0 ? checks + 1 : 0      # and the heading
grid_b = leg_h + (note eq "" ? 0 : 1.1 * lh) + checks * 1.1 * lh + 4.0 * lh
grid_r = 1 - 10 * cw - 2 * lx         # room for the colour bar, its tick labels and title
if (!per_layer) { grid_l = grid_l + 2.2 * lx }          # room for the rows' names
if (per_layer && ns > 1) { grid_vgap = grid_vgap + 1.4 * lh }   # each row has its panels' titles
do for [fmt in formats] {
  eval term(fmt)
  set output out.".".fmt
  set multiplot title title
  do for [si = 1:ns] {
    do for [pj = 1:(per_layer ? nl : nfam)] {
      eval style
      r = per_layer ? si : pj
      c = per_layer ? pj : si
      fi = per_layer ? 1 : pj
      eval panel(r, c, rows, cols)
      s = word(splits, si)
      panel_layers = per_layer ? word(layers, pj) : layers
      if (per_layer) { set title word(layers, pj)." (".s.")" noenhanced offset 0, -0.7 } else {
        if (r == 1) { set title s noenhanced offset 0, -0.7 } else { unset title } }
      set xrange [FX_lo[fi]:FX_hi[fi]]
      set yrange [FY_lo[fi]:FY_hi[fi]]
      set xtics nice_step(FX_hi[fi] - FX_lo[fi])
      set ytics nice_step(FY_hi[fi] - FY_lo[fi])
      set xlabel "I(X;Z) (bits)"
      if (c == 1) { set ylabel (per_layer ? "" : fam_title(word(families, fi))."\n")."I(Z;Y) (bits)" noenhanced } else { unset ylabel }
      # colour = epoch + 1 on a log scale: epoch 0 (before training) sits at the bottom of the bar
      set logscale cb
      set cbrange [1:ep_top]
      set cblabel "epoch" offset 0.5,0
      set cbtics ("0" 1)
      do for [k = 0:30] {
        e = EP_max <= 64 ? 2**k : int(10**(k / 3) * word("1 2 5", k % 3 + 1))
        if (e <= EP_max) { eval sprintf('set cbtics add ("%d" %d)', e, e + 1) }
      }
      if (r == 1 && c == cols) {
        set colorbox user origin screen grid_r + 2 * cw, screen grid_b size screen 1.2 * cw, screen grid_t - grid_b
      } else {
        unset colorbox
      }
      drawn(li, ei) = sel(s, word(layers, li), word(estimators, ei)) && inlist(word(layers, li), panel_layers) && \
                      in_fam(word(estimators, ei), fi)
      plot for [li = 1:nl] for [ei = 1:ne] info \
             using (drawn(li, ei) ? column("ixz_bits") : NaN):"izy_bits" \
             with lines lw 1.2 lc rgb qc(li - 1), \
           for [a = 1:audit] for [li = 1:nl] for [ei = 1:ne] info \
             using (drawn(li, ei) ? column("ixz_bits") : NaN):"izy_bits":"ixz_lo":"ixz_hi":"izy_lo":"izy_hi" \
             with xyerrorbars pt -1 lw 0.6 lc rgb "#9f9f9f", \
           for [li = 1:nl] for [ei = 1:ne] info \
             using (drawn(li, ei) && told(0) ? column("ixz_bits") : NaN):"izy_bits":(column("epoch") + 1) \
             with points pt est_pt(word(estimators, ei)) ps 0.8 lc palette z, \
           for [a = 1:audit] for [li = 1:nl] for [ei = 1:ne] info \
             using (drawn(li, ei) && !told(0) ? column("ixz_bits") : NaN):"izy_bits" \
             with points pt est_pt(word(estimators, ei)) ps 0.8 lc rgb "#b7b7b7"
    }
  }
  # the key of the layers' colours and the estimators' markers, and the note, across the bottom
  eval leg_strip
  if (note ne "") { set label 1 note at screen 0.5, screen leg_h + (0.4 + checks * 1.1) * lh center font ",8" tc rgb "#b00000" front }
  if (checks > 0) { set label 4 "self-check at each layer's n and d, true I(X;Z) = 0.5 log2 n (selfcheck.csv), error in bits:" \
                      at screen 0.5, screen leg_h + (0.4 + (checks - 1) * 1.1) * lh center font ",7" tc rgb "#404040" front noenhanced }
  if (check_ixz ne "") { set label 2 check_ixz at screen 0.5, screen leg_h + ((check_izy eq "" ? 0 : 1.1) + 0.4) * lh center font ",7" tc rgb "#404040" front noenhanced }
  if (check_izy ne "") { set label 3 check_izy at screen 0.5, screen leg_h + 0.4 * lh center font ",7" tc rgb "#404040" front noenhanced }
  plot for [k = 1:nl] '+' using (leg_seg(k, nk, title_len, $0)):(leg_y(k, nk, title_len)) every ::0::1 \
         with lines lw 2 lc rgb qc(k - 1), \
       for [k = nl + 1:nk] '+' using (leg_x(k, nk, title_len)):(leg_y(k, nk, title_len)) every ::0::0 \
         with points pt est_pt(word(estimators, k - nl)) ps 0.9 lc rgb "#303030", \
       for [k = 1:nk] '+' using (leg_x(k, nk, title_len) + 1.5 * cw):(leg_y(k, nk, title_len)):(key_title(k)) \
         every ::0::0 with labels left noenhanced
  unset label 1; unset label 2; unset label 3; unset label 4
  unset multiplot
  set output
}
