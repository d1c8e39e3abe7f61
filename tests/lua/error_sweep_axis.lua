-- expect: error_sweep_axis.lua:6: sweep axis 'beta' is not a param; declare it in params
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 3 } },
  sweep = vib.grid { beta = { 1, 2 } },
}
