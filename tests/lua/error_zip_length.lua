-- expect: error_zip_length.lua:7: vib.zip: 'lr' has 3 values but 'hidden' has 2; zipped lists have equal lengths
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" }, params = { hidden = 8, lr = 0.1 },
  model = function(p) return vib.seq { vib.linear { out = p.hidden }, vib.linear { out = 3 } } end,
  optim = function(p) return vib.optim.adam { lr = p.lr } end,
  sweep = vib.zip { hidden = { 8, 16 }, lr = { 0.1, 0.2, 0.3 } },
}
