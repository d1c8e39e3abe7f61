-- diverge.lua: a learning rate that sends the loss to infinity; used by test_vibrun.c.
local vib = require "vib"
return vib.experiment {
  name = "diverge", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 8 }, vib.relu {}, vib.linear { out = 3 } },
  objective = vib.obj.ce {},
  optim = vib.optim.sgd { lr = 1e30 },
  epochs = 2,
}
