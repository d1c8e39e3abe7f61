-- expect: error_param_read.lua:8: p.wdd: the experiment has no param 'wdd' (did you mean p.wd?); declare it in params, or use one of: wd
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  params = { wd = 0.1 },
  model = vib.seq { vib.linear { out = 3 } },
  objective = vib.obj.ce {},
  optim = function(p) return vib.optim.adam { lr = 1e-3, weight_decay = p.wdd } end,
}
