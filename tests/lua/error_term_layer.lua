-- expect: error_term_layer.lua:6: term 'ce': reads layer 'z', but the model has no layer of that name
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 3 } },
  objective = vib.obj.sum { vib.term.ce { layer = "z" } },
}
