-- expect: error_kl_layer.lua:7: term 'kl': the KL term reads a stochastic layer; set layer = the name of a vib.gauss or vib.bern layer ('h' is not one)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 8, name = "h" }, vib.linear { out = 3 } },
  objective = vib.obj.sum {
    vib.term.ce {}, vib.term.kl { layer = "h", weight = 0.1 },
  },
}
