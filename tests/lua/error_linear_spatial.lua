-- expect: error_linear_spatial.lua:7: linear 'fc': in=8 but the previous layer outputs (4, 2, 2) = 16 features (read flattened); set in=16 or remove it
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv", shape = { 1, 2, 2 } },
  model = vib.seq {
    vib.conv { out = 4, kernel = 3, padding = 1 },
    vib.linear { ["in"] = 8, out = 3, name = "fc" },
  },
}
