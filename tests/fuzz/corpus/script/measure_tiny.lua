-- measure_tiny.lua: a seconds-long VIB with a 2-D bottleneck on tiny.csv, measuring every
-- estimator on every layer at log2 epochs, with the self-check (test_vibrun.c: info.csv, result
-- columns, latent, selfcheck.csv).
local vib = require "vib"

return vib.experiment {
  name    = "measure_tiny",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "standardize" },
  params  = { beta = 0.01, seed = 1 },
  model   = vib.seq { vib.linear { out = 8 }, vib.tanh { name = "h" },
                      vib.gauss { k = 2, name = "z" }, vib.linear { out = 3 } },
  objective = function(p) return vib.obj.vib { beta = p.beta } end,
  optim   = vib.optim.adam { lr = 0.01 },
  epochs  = 5, batch = 20, eval_samples = 4,
  measure = { every = "log2", estimators = "all", samples = 60, kde_var = 0.05, selfcheck = true },
}
