-- expect: error_optim.lua:5: vib.optim.adam: adam: beta1 = 1.5 must be in [0, 1); try 0.9
local vib = require "vib"
return vib.experiment { name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 3 } },
  optim = vib.optim.adam { lr = 1e-3, beta1 = 1.5 },
}
