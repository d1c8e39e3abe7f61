-- expect: error_conv_groups.lua:6: conv 'c1': groups=2 must divide both the 2 input channels and the 3 output channels; use a common divisor (groups = 2 with out = 2 is depthwise)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv", shape = { 2, 2, 1 } },
  model = vib.seq {
    vib.conv { out = 3, kernel = 1, groups = 2, name = "c1" },
    vib.linear { out = 3 },
  },
}
