-- expect: error_unread_param.lua:5: param 'lr' is never read by the experiment (p.lr in model, objective, data or optim); a typo? remove it or use it
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  params = { hidden = 8, lr = 0.1 },
  model = function(p) return vib.seq { vib.linear { out = p.hidden }, vib.linear { out = 3 } } end,
  optim = vib.optim.adam { lr = 0.01 },
}
