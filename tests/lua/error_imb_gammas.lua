-- expect: error_imb_gammas.lua:7: vib.obj.imb: gammas has 2 values; give 3 (gamma_0 for the input, then one per layer)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.bern { units = 8, name = "h1" }, vib.bern { units = 8, name = "h2" }, vib.linear { out = 3 } },
  objective =
    vib.obj.imb { layers = { "h1", "h2" }, gammas = { 1, 0 } },
}
