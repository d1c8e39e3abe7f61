-- expect: error_unread_axis.lua:8: the sweep varies 'hiden' but the experiment never reads it (p.hiden in model, objective, data or optim); a typo?
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  params = { hidden = 8, hiden = 8 },
  model = function(p) return vib.seq { vib.linear { out = p.hidden }, vib.linear { out = 3 } } end,
  -- a typo in the sweep: every point trains the same network
  sweep = vib.grid { hiden = { 8, 16, 32 } },
}
