-- attack_csv.lua: a deterministic MLP on tiny.csv (three Gaussian blobs in 4-D, standardized) with an
-- attack block: on CSV data an attack works in each feature's observed range mapped to [0, 1], so
-- eps = 0 leaves the test accuracy as evaluation found it and eps = 1 may move a feature across its
-- range (test_attack_cmd.c).
local vib = require "vib"

return vib.experiment {
  name    = "attack_csv",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "standardize" },
  params  = { seed = 1 },
  model   = function(p) return vib.seq {
              vib.linear { out = 16 }, vib.tanh {}, vib.linear { out = 3 } } end,
  optim   = vib.optim.adam { lr = 0.03 },
  epochs  = 5, batch = 20,
  attack  = { n = 1000, batch = 32,
              vib.attack.fgsm { eps = { 0, 0.05, 0.2 } },
              vib.attack.pgd { norm = "l2", eps = 0.3, steps = 10 } },
}
