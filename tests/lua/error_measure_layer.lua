-- expect: error_measure_layer.lua:6: measure: the model has no layer 'z'; its layers: hidden, tanh2, logits, softmax
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 4, name = "hidden" }, vib.tanh {}, vib.linear { out = 3, name = "logits" } },
  measure = { layers = { "z" } },
}
