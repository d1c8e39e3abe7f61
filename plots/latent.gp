# latent.gp: the 2-D latent space of a K = 2 model (VIB's Figure 2): the means of p(z|x) for test
# points coloured by class, the 95% ellipses of p(z|x), over the decoder's predictive entropy
# (white = certain, grey = uncertain).
# vibrun writes the variables above and this script into runs/<exp>/plots/; edit and re-run with
# `gnuplot <name>.gp` there, or redraw every figure with `vibrun plot runs/<exp>`.
#   latent    : latent.csv (label,mu1,mu2,s11,s12,s22,ell_major,ell_minor,ell_angle)
#   grid      : latent_grid.csv (z1,z2,entropy_bits on a regular grid, z1 fastest), "" for none
#   points    : how many test points (the first ones) to draw; ellipses: how many get an ellipse
#   nclass    : the number of classes (colours in the legend)
#   title, out: the figure's title and its path without extension

leg_h = (leg_rows(nclass, 2) + 0.3) * 1.1 * lh
grid_b = leg_h + 4.0 * lh
do for [fmt in formats] {
  eval term(fmt)
  set output out.".".fmt
  set multiplot title title
  eval style
  grid_r = 1 - 9 * cw - 2 * lx
  eval panel(1, 1, 1, 1)
  set size ratio -1
  set xlabel "z_1"
  set ylabel "z_2"
  set palette defined (0 "#ffffff", 1 "#8c8c8c")
  set cblabel "decoder entropy (bits)"
  set cbrange [0:*]
  # the bar as tall as the (equal-aspect, centred) panel of a square latent range
  side = (grid_t - grid_b) < (grid_r - grid_l) * width_in / height_in ? (grid_t - grid_b) : (grid_r - grid_l) * width_in / height_in
  set colorbox user origin screen grid_r + 1.5 * cw, screen (grid_t + grid_b - side) / 2 size screen 1.2 * cw, screen side
  if (grid ne "") {
    undefine G_*
    stats grid using "z1":"z2" name "G" nooutput
    set xrange [G_min_x:G_max_x]
    set yrange [G_min_y:G_max_y]
  }
  plot (grid ne "" ? grid : 1/0) using "z1":"z2":"entropy_bits" with image, \
       latent every ::0::(ellipses - 1) using "mu1":"mu2":"ell_major":"ell_minor":"ell_angle":(qc(column("label"))) \
         with ellipses lw 0.4 lc rgb variable, \
       latent every ::0::(points - 1) using "mu1":"mu2":(qc(column("label"))) with points pt 7 ps 0.3 lc rgb variable
  # the classes' colours across the bottom
  eval leg_strip
  plot for [k = 1:nclass] '+' using (leg_x(k, nclass, 2)):(leg_y(k, nclass, 2)) every ::0::0 with points pt 7 ps 0.8 lc rgb qc(k - 1), \
       for [k = 1:nclass] '+' using (leg_x(k, nclass, 2) + 1.2 * cw):(leg_y(k, nclass, 2)):(sprintf("%d", k - 1)) every ::0::0 with labels left
  unset multiplot
  set output
}
