-- expect: error_one_of.lua:7: "sigmoid" is not one of "tanh", "relu"
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  params = { act = "sigmoid" },
  model = function(p)
    local A = vib.one_of(p.act, { "tanh", "relu" }) == "relu" and vib.relu or vib.tanh
    return vib.seq { vib.linear { out = 8 }, A {}, vib.linear { out = 3 } }
  end,
}
