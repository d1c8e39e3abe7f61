-- expect: error_measure_all.lua:12: measure: "all" layers of this model are 33; at most 32 (and the softmax) are measured: name them, layers = { ... }
local vib = require "vib"
local layers = {}
for i = 1, 33 do layers[#layers + 1] = vib.tanh {} end
layers[#layers + 1] = vib.linear { out = 3 }
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq(layers),
  objective = vib.obj.ce {},
  optim = vib.optim.adam { lr = 0.01 },
  epochs = 1,
  measure = { every = { 1 }, estimators = { "binning" } },
}
