-- expect: error_uib_beta.lua:6: vib.obj.uib: beta=0.5; the IB Lagrangian needs beta > 1 (beta <= 1 is minimized by a Z that ignores X)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 8, name = "f" }, vib.noise { name = "z" }, vib.linear { out = 3 } },
  objective = vib.obj.uib { kind = "ib", beta = 0.5 },
}
