-- expect: error_conv_transpose_outpad.lua:6: conv_transpose 'up': output_padding=2 must be >= 0 and smaller than the stride (2) or the dilation (1)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv", shape = { 1, 2, 2 } },
  model = vib.seq {
    vib.conv_transpose { out = 2, kernel = 3, stride = 2, output_padding = 2, name = "up" },
    vib.linear { out = 3 },
  },
}
