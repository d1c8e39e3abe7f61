-- expect: error_conv_in.lua:7: conv 'c2': in=3 channels but the previous layer outputs (4, 2, 2); set in=4 or remove it
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv", shape = { 1, 2, 2 } },
  model = vib.seq {
    vib.conv { out = 4, kernel = 3, padding = 1 },
    vib.conv { ["in"] = 3, out = 4, kernel = 1, name = "c2" },
    vib.linear { out = 3 },
  },
}
