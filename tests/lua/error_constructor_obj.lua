-- expect: error_constructor_obj.lua:6: vib.obj.VIB does not exist (did you mean vib.obj.vib?); vib.obj has: beta_vae, ce, ceb, confidence, imb, nlib, sum, uib, vib
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.gauss { k = 4, name = "z" }, vib.linear { out = 3 } },
  objective = vib.obj.VIB { beta = 1e-3 },
}
