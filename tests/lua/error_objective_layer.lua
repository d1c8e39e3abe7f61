-- expect: error_objective_layer.lua:10: vib.obj.vib: the model has 2 layers it could read (vib.gauss or vib.bern: z1, z2); name one, e.g. layer = "z1"
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq {
    vib.gauss { k = 4, name = "z1" },
    vib.gauss { k = 4, name = "z2" },
    vib.linear { out = 3 } },
  -- two Gaussian layers: which rate does the objective penalize? it must say
  objective = vib.obj.vib { beta = 1e-3 },
}
