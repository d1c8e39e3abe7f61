-- expect: error_tail_call.lua:9: vib.obj.uib: beta=0.5; the IB Lagrangian needs beta > 1
-- A constructor returned by an objective function (a tail call: no frame of the script is left)
-- is placed within that function's lines, not at the vib.experiment line.
local vib = require "vib"
return vib.experiment { name = "u", data = vib.data.csv { path = "tiny.csv" },
  params = { beta = 0.5 },
  model = vib.seq { vib.linear { out = 4 }, vib.noise {}, vib.linear { out = 3 } },
  objective = function(p)
    return vib.obj.uib { kind = "ib", beta = p.beta }
  end,
  epochs = 1 }
