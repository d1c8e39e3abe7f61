-- imb_tiny.lua: an SNN of two Bernoulli layers on the tiny CSV; test_vibrun.c checks that
-- vib.obj.imb with gammas = {1, 0, 0} and no betas trains as the SNN likelihood written as a term.
local vib = require "vib"

return vib.experiment {
  name    = "imb_tiny",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "standardize" },
  params  = { form = "imb", seed = 1 },
  model   = vib.seq { vib.bern { units = 6, particles = 3, name = "h1" },
                      vib.bern { units = 4, particles = 2, name = "h2" }, vib.linear { out = 3, name = "decoder" } },
  objective = function(p)
    if p.form == "snn" then return vib.obj.sum { vib.term.ce { average = "input" } } end
    return vib.obj.imb { layers = { "h1", "h2" }, gammas = { 1, 0, 0 } }
  end,
  optim   = vib.optim.adam { lr = 0.01 },
  epochs  = 2, batch = 20, eval_samples = 3,
}
