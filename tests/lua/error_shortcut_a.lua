-- expect: error_shortcut_a.lua:6: residual 'block': shortcut "A" zero-pads channels, but the body reduces them from 4 to 2; use shortcut = "B" (a 1x1 convolution)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv", shape = { 4, 1, 1 } },
  model = vib.seq {
    vib.residual { vib.conv { out = 2, kernel = 1 }, shortcut = "A", name = "block" },
    vib.linear { out = 3 },
  },
}
