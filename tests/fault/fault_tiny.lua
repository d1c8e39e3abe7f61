-- fault_tiny.lua: a point that writes every kind of file a run writes (config.lua, metrics.csv,
-- info.csv and info_timing.csv, timing.csv, the checkpoint each epoch, result.csv, the manifest,
-- results.csv, summary.csv, figures), in few calls (k = 3: a 2-D latent would add its dump of
-- tens of thousands of rows), for tests/fault/fault_inject.sh.
local vib = require "vib"

return vib.experiment {
  name    = "fault_tiny",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "standardize" },
  params  = { beta = 0.01, seed = 1 },
  model   = vib.seq { vib.linear { out = 8 }, vib.tanh { name = "h" },
                      vib.gauss { k = 3, name = "z" }, vib.linear { out = 3 } },
  objective = function(p) return vib.obj.vib { beta = p.beta } end,
  optim   = vib.optim.adam { lr = 0.01 },
  epochs  = 2, batch = 50, eval_samples = 2,
  measure = { every = "epoch", layers = { "z" }, estimators = { "binning" }, samples = 60, range = { -4, 4 } },
}
