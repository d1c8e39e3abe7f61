-- expect: error_random_dist.lua:7: vib.loguniform(a, b): a and b must be > 0, e.g. vib.loguniform(1e-6, 1)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" }, params = { lr = 0.1 },
  model = vib.seq { vib.linear { out = 3 } },
  optim = function(p) return vib.optim.adam { lr = p.lr } end,
  sweep = vib.random { n = 4, seed = 7, lr = vib.loguniform(0, 1) },
}
