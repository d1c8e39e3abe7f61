-- uib_tiny.lua: the Unpacking-IB surrogates on the tiny CSV; test_vibrun.c checks that IB at beta
-- and CEB at gamma = beta - 1 train to the same bytes.
local vib = require "vib"

return vib.experiment {
  name    = "uib_tiny",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "standardize" },
  params  = { kind = "ib", beta = 3.0, gamma = 2.0, seed = 1 },
  model   = vib.seq { vib.linear { out = 8, name = "f" }, vib.tanh {}, vib.linear { out = 4 },
                      vib.noise { name = "z" }, vib.linear { out = 3, name = "decoder" } },
  objective = function(p)
    if p.kind == "ceb" then return vib.obj.uib { kind = "ceb", gamma = p.gamma } end
    return vib.obj.uib { kind = "ib", beta = p.beta }
  end,
  optim   = vib.optim.adam { lr = 0.01 },
  epochs  = 3, batch = 20,
}
