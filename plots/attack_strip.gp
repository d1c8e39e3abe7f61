# attack_strip.gp: one point's adversarial examples (attack_examples.csv): a line of the original
# images on top, then per attack row of attack.csv a line of adversarial images (a red frame where
# the attacked prediction is wrong) and a line of their differences, 0.5 + A (adversarial -
# original) per pixel and channel clipped to [0, 1] (mid grey: unchanged), A written on the line.
# vibrun writes the variables above and this script into runs/<exp>/plots/; edit and re-run with
# `gnuplot <name>.gp` there, or redraw every figure with `vibrun plot runs/<exp>`.
#   data      : the images, float32 (this machine's byte order), line after line, ncol images a
#               line, each H x W pixels row-major with its CH channels (1 or 3) interleaved; line 0
#               the originals, then an adversarial and a difference line per attack row
#   ncol, nline, W, H, CH, gap, G: images a line, lines, the image's size and channels, the gap
#               between images and the extra gap between attack rows (pixels)
#   LABEL[nline], AMP[nline]: each line's title and its amplification A (0: images, not differences)
#   FOOLED[nline * ncol]: 1 where the adversarial image's prediction is wrong (framed)
#   CAP[ncol]  : each example's caption under the originals (its index in the split and its label)
#   lm_in, rm_in, tm_in, bm_in: the margins around the images (inches), which keep pixels square
#   title, out: the figure's title and its path without extension
#   note, note2: the two lines of explanation at the bottom

grp(L) = (L + 1) / 2                     # attack rows above line L (integers)
Htot = nline * (H + gap) + grp(nline - 1) * G
ybot(L) = Htot - (L + 1) * (H + gap) - grp(L) * G
xleft(j) = j * (W + gap) + gap / 2.0
fmt_px = CH == 3 ? "%3float32" : "%float32"
img_bytes = W * H * CH * 4
# the pixel as 0..255 for rgbimage: an image's value, or a difference amplified around mid grey
px(v, a) = a > 0 ? 255 * (0.5 + a * v < 0 ? 0 : 0.5 + a * v > 1 ? 1 : 0.5 + a * v) : 255 * v
cols(a) = CH == 3 ? sprintf("(px($1,%g)):(px($2,%g)):(px($3,%g))", a, a, a) : sprintf("(px($1,%g)):(px($1,%g)):(px($1,%g))", a, a, a)
cmd = ""
do for [L = 0:nline - 1] {
  do for [j = 0:ncol - 1] {
    cmd = cmd . sprintf("%s'%s' binary array=(%d,%d) format='%s' skip=%d origin=(%g,%g) flipy using %s with rgbimage notitle", \
                        cmd eq "" ? "" : ", ", data, W, H, fmt_px, (L * ncol + j) * img_bytes, xleft(j) + 0.5, \
                        ybot(L) + gap / 2.0 + 0.5, cols(AMP[L + 1]))
  }
}
do for [fmt in formats] {
  eval term(fmt)
  set output out.".".fmt
  eval style
  unset grid; unset border; unset tics; unset key; unset xlabel; unset ylabel
  unset label; unset object
  set title title
  set lmargin at screen lm_in / width_in
  set rmargin at screen 1 - rm_in / width_in
  set tmargin at screen 1 - tm_in / height_in
  set bmargin at screen bm_in / height_in
  set xrange [0:ncol * (W + gap)]
  set yrange [0:Htot]
  do for [L = 0:nline - 1] {
    set label LABEL[L + 1] at first 0, first ybot(L) + gap / 2.0 + H / 2.0 right offset -0.6, 0
    if (L > 0 && AMP[L + 1] == 0) {
      do for [j = 0:ncol - 1] {
        if (FOOLED[L * ncol + j + 1]) {
          set object rect from first xleft(j) - 0.8, first ybot(L) + gap / 2.0 - 0.8 \
              to first xleft(j) + W + 0.8, first ybot(L) + gap / 2.0 + H + 0.8 front fillstyle empty \
              border lc rgb "#e15759" lw 1.5
        }
      }
    }
  }
  do for [j = 0:ncol - 1] {
    set label CAP[j + 1] at first xleft(j) + W / 2.0, first ybot(0) + gap / 2.0 - 0.3 center offset 0, -0.7 font ",6.5"
  }
  set label note at screen 0.5, screen 0.32 / height_in center font ",7"
  set label note2 at screen 0.5, screen 0.16 / height_in center font ",7"
  eval "plot ".cmd
  unset output
}
