-- expect: error_sweep_empty.lua:7: vib.grid: axis 'lr' has no values; give at least one
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" }, params = { lr = 0.1 },
  model = vib.seq { vib.linear { out = 3 } },
  optim = function(p) return vib.optim.adam { lr = p.lr } end,
  sweep = vib.grid { lr = {} },
}
