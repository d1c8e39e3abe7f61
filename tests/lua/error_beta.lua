-- expect: error_beta.lua:6: vib.obj.vib: beta=-0.5 must be >= 0
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.gauss { k = 2, name = "z" }, vib.linear { out = 3 } },
  objective = vib.obj.vib { beta = -0.5 },
}
