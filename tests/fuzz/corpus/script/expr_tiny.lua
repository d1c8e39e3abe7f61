-- expr_tiny.lua: a composed objective (a convex IB Lagrangian, CE + beta KL^2) on the tiny CSV;
-- test_vibrun.c checks the logged loss against the logged terms.
local vib = require "vib"
local ce, kl = vib.term.ce {}, vib.term.kl { layer = "z" }

return vib.experiment {
  name    = "expr_tiny",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "standardize" },
  params  = { beta = 0.05, seed = 1 },
  model   = vib.seq { vib.linear { out = 8 }, vib.tanh {}, vib.gauss { k = 2, name = "z" },
                      vib.linear { out = 3, name = "decoder" } },
  objective = function(p) return ce + p.beta * kl ^ 2 end,
  optim   = vib.optim.adam { lr = 0.01 },
  epochs  = 2, batch = 20, eval_samples = 4,
}
