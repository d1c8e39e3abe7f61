-- expect: error_expr.lua:7: an objective expression combines terms (vib.term.*) and numbers, got string
local vib = require "vib"
local ce, kl = vib.term.ce {}, vib.term.kl { layer = "z" }
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.gauss { k = 2, name = "z" }, vib.linear { out = 3 } },
  objective = ce + "0.1" * kl,
}
