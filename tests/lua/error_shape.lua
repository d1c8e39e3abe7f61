-- expect: error_shape.lua:8: linear 'second': in=10 but the previous layer outputs 16; set in=16 or remove it
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq {
    vib.linear { out = 16 },
    vib.relu {},
    vib.linear { ["in"] = 10, out = 3, name = "second" },
  },
}
