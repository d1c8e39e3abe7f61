-- quickstart.lua: the first experiment to run. A small MLP on Fashion-MNIST (the default data set,
-- installed by `make demo` from Debian's dataset-fashion-mnist), a few epochs, a training curve.
--
--   vibrun experiments/quickstart.lua                 about 6 s on 2 cores
--   vibrun experiments/quickstart.lua --set epochs=2  quicker
--   vibrun experiments/quickstart.lua --check         the model summary, no training
--
-- Writes runs/quickstart/results.csv, runs/quickstart/<point>/metrics.csv and the figure
-- runs/quickstart/plots/training_curve.png.
local vib = require "vib"

return vib.experiment {
  name    = "quickstart",
  data    = vib.data.fashion_mnist { scale = "unit" },
  params  = { hidden = 256, lr = 1e-3 },
  model   = function(p) return vib.seq {
              vib.linear { out = p.hidden }, vib.relu {},
              vib.linear { out = p.hidden }, vib.relu {},
              vib.linear { out = 10 } } end,
  objective = vib.obj.ce {},
  optim   = function(p) return vib.optim.adam { lr = p.lr } end,
  epochs  = 5, batch = 100,
}
