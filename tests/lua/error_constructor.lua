-- expect: error_constructor.lua:7: vib.optim.adma does not exist (did you mean vib.optim.adam?); vib.optim has: adam, adamax, adamw, sgd
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 3 } },
  objective = vib.obj.ce {},
  optim = vib.optim.adma { lr = 1e-3 },
}
