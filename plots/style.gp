# style.gp: the look every figure shares; vibrun writes it between a figure's variables and its
# template. Sizes are paper sizes: width_in x height_in inches with font_pt-point text, so a PNG
# (dpi pixels per inch), an SVG and a PDF of one figure look alike when printed at that size.
#   formats : output formats, any of "png svg pdf" (pdf through pdfcairo)
#   dpi     : PNG resolution

if (!exists("formats")) formats = "png svg"
if (!exists("font_pt")) font_pt = 9
if (!exists("dpi")) dpi = 200
if (!exists("title")) title = ""
if (!exists("note")) note = ""

set datafile separator ","
set datafile columnheaders
set datafile missing NaN                # filtered-out rows do not break a trajectory's line
set encoding utf8

# One 10-colour qualitative palette (Tableau 10) for classes and layers in every figure.
array C10[10] = [0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f, 0xedc948, 0xb07aa1, 0xff9da7, 0x9c755f, 0xbab0ac]
qc(i) = C10[int(i) % 10 + 1]
# Train is drawn dashed with open markers, test solid with filled ones, in every figure.
split_dt(s) = s eq "train" ? 2 : 1
split_pt(s) = s eq "train" ? 6 : 7
inlist(w, list) = strstrt(" ".list." ", " ".w." ") > 0
finite(x) = x == x && abs(x) < 1e300
# The settings each panel starts from (eval style): a key strip or an image may have changed them.
style = "set border lw 1.2; set grid lw 0.5 lc rgb '#e0e0e0'; set tics nomirror out scale 0.6; " . \
        "set key noautotitle samplen 1.5 spacing 1.1; set xtics autofreq; set ytics autofreq; " . \
        "set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', 1 '#c8e020')"

scale = dpi / 72.0
# pngcairo sets text at 96 pixels per inch of its fontscale-1 canvas while the canvas here has dpi
# pixels per inch: fontscale dpi / 96 puts a 9-point text at 9 points of the printed figure, as the
# SVG and the PDF do (with dpi / 72 the PNG's text came out a third larger and ran out of panels).
term(fmt) = fmt eq "png" ? \
    sprintf("set terminal pngcairo size %d,%d enhanced font 'sans,%g' fontscale %g linewidth %g pointscale %g", \
            width_in * dpi, height_in * dpi, font_pt, dpi / 96.0, scale, scale) : fmt eq "svg" ? \
    sprintf("set terminal svg size %d,%d enhanced font 'sans,%g' linewidth 1", \
            width_in * 72, height_in * 72, font_pt) : \
    sprintf("set terminal pdfcairo size %gin,%gin enhanced font 'sans,%g' fontscale 1 linewidth 1", \
            width_in, height_in, font_pt)

# Log x axis ticks a decade apart, or 2 or 3 decades apart over a wide range (lo, hi > 0); under
# two decades the decades get labels between them too: 1, 2 and 5 under one decade (0.1 0.2 0.5 1),
# 1 and 3 under two (10 30 100 300), so 0.12 and 0.15 read and the labels do not run together.
mant(v) = v / 10**floor(log10(v) + 1e-9)
next125(v) = mant(v) < 1.5 ? 2 * v : mant(v) < 3 ? 2.5 * v : 2 * v
next13(v) = mant(v) < 2 ? 3 * v : v * 10 / 3.0
tics_from(v, hi, fine) = v > hi ? "" : sprintf(",%g", v) . tics_from(fine ? next125(v) : next13(v), hi, fine)
log_tics(lo, hi) = log10(hi / lo) < 2 ? \
    sprintf("set logscale x; set format x '%%g'; set xtics (%s); set mxtics 10", \
            tics_from(10**floor(log10(lo) + 1e-9), 10**ceil(log10(hi) - 1e-9) * 1.0001, log10(hi / lo) < 1)[2:]) : \
    sprintf("set logscale x; set format x '10^{%%L}'; set xtics %g; set mxtics 10", \
            10**(log10(hi / lo) > 8 ? 3 : log10(hi / lo) > 4 ? 2 : 1))

# A tick step of 1, 2 or 5 times a power of ten that gives about four labels over a range r > 0,
# so that labels do not run into each other on a narrow panel.
nice_step(r) = (ns_e = 10**floor(log10(r / 4.0)), ns_m = r / 4.0 / ns_e, \
                (ns_m < 1.5 ? 1 : ns_m < 3.5 ? 2 : ns_m < 7.5 ? 5 : 10) * ns_e)

# Panel geometry in screen fractions, from the paper size, so text never collides with panels:
# lh one text line (vertical), lx one text line (horizontal), cw one character's width.
lh = font_pt / 72.0 * 1.3 / height_in
lx = font_pt / 72.0 * 1.3 / width_in
cw = font_pt / 72.0 * 0.6 / width_in
# The box of the panels' axes (a figure may move its edges before placing panels) and the gaps.
grid_l = 8 * cw + 2.2 * lx
grid_r = 1 - 3 * cw            # room for half of the last x tick label (10^{-1}) past the edge
grid_t = 1 - (title eq "" ? 0.3 : 1.6) * lh - 1.6 * lh
grid_b = 4.0 * lh
grid_hgap = 7 * cw
grid_vgap = 4.2 * lh
pw(nc) = (grid_r - grid_l - (nc - 1) * grid_hgap) / nc
ph(nr) = (grid_t - grid_b - (nr - 1) * grid_vgap) / nr
panel(r, c, nr, nc) = sprintf("set lmargin at screen %g; set rmargin at screen %g; set tmargin at screen %g; set bmargin at screen %g", \
    grid_l + (c - 1) * (pw(nc) + grid_hgap), grid_l + (c - 1) * (pw(nc) + grid_hgap) + pw(nc), \
    grid_t - (r - 1) * (ph(nr) + grid_vgap), grid_t - (r - 1) * (ph(nr) + grid_vgap) - ph(nr))
# A legend across the bottom strip of the figure, laid out here (gnuplot's own key layout
# overestimates the width of cairo text): n entries whose longest title has len characters, in
# leg_cols columns; entry i sits at (leg_x(i), leg_y(i)) of a strip plot (eval leg_strip) whose
# graph spans the figure's width and the bottom leg_h of its height.
leg_cols(n, len) = int(floor(0.96 * width_in * 72 / ((len + 4) * font_pt * 0.75))) < n ? \
                   int(floor(0.96 * width_in * 72 / ((len + 4) * font_pt * 0.75))) : n
leg_rows(n, len) = int(ceil(n * 1.0 / (leg_cols(n, len) < 1 ? 1 : leg_cols(n, len))))
leg_colw(len) = (len + 4) * font_pt * 0.75 / 72.0 / width_in
leg_x(i, n, len) = 0.5 - leg_cols(n, len) * leg_colw(len) / 2 + ((i - 1) % leg_cols(n, len)) * leg_colw(len) + cw
leg_y(i, n, len) = 1 - (int((i - 1) / leg_cols(n, len)) + 0.6) / (leg_rows(n, len) + 0.3)
# A legend entry: a short line (dt, lc; dt 0 for none) with a marker (pt) at its middle, its title
# right of it; plot for [i] leg_entry(i, n, len) ... with linespoints, then the titles with labels.
leg_seg(i, n, len, k) = leg_x(i, n, len) - 0.6 * cw + k * 1.2 * cw
leg_strip = "unset border; unset tics; unset grid; unset xlabel; unset ylabel; unset title; unset colorbox; " . \
    "unset logscale; unset key; set size noratio; set xrange [0:1]; set yrange [0:1]; " . \
    "set lmargin at screen 0; set rmargin at screen 1; set bmargin at screen 0; set tmargin at screen leg_h"
