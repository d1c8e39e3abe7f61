-- expect: error_type.lua:5: vib.linear: 'out' must be an integer, got 2.5
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 2.5 } },
}
