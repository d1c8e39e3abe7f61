-- expect: error_resnet_depth.lua:5: vib.resnet: depth = 21 is not 18 or 6n+2 (20, 32, 44, 56, 110)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv", shape = { 1, 2, 2 } },
  model = vib.resnet { depth = 21 },
}
