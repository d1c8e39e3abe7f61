-- expect: error_objective_layer_z.lua:9: vib.obj.ceb: the model has 2 layers it could read (vib.gauss: z, gauss2); name one, e.g. layer = "z"
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  params = { gamma = 2 },
  model = vib.seq { vib.gauss { k = 4, name = "z" }, vib.gauss { k = 4 }, vib.linear { out = 3 } },
  -- one of them is named z, which was the default: still ambiguous
  objective = function(p)
    return vib.obj.ceb { gamma = p.gamma }
  end,
}
