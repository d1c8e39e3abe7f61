-- attack_batch.lua: attack_tiny's model and attacks (and C&W L2, untargeted and targeted), the attack batch a parameter the model does not
-- read (run twice, --set ab=7 and --set ab=64: the same weights from common streams). Each
-- example's attack noise comes from its index in the test set, so the two attack.csv files are
-- the same bytes (test_attack.c).
local vib = require "vib"

return vib.experiment {
  name    = "attack_batch",
  data    = vib.data.fashion_mnist { scale = "pm1", train_limit = 600, test_limit = 100 },
  params  = { beta = 1e-3, seed = 1, ab = 7 },
  model   = function(p) return vib.seq {
    vib.linear { out = 64 }, vib.relu {},
    vib.gauss { k = 8, name = "z" }, vib.linear { out = 10 } } end,
  objective = function(p) return vib.obj.vib { beta = p.beta } end,
  optim   = vib.optim.adam { lr = 1e-3 },
  epochs  = 2, batch = 50, eval_samples = 4, ema = 0.9,
  attack  = function(p)
    return { n = 40, batch = p.ab,
             vib.attack.fgsm { eps = { 0.05, 0.2 } },
             vib.attack.fgsm { eps = 0.1, targeted = true },
             vib.attack.pgd { eps = 0.1, steps = 5, restarts = 2 },
             vib.attack.pgd { norm = "l2", eps = 1.0, steps = 5, loss = "dlr" },
             vib.attack.auto { eps = 0.1, steps = 5, eot = 3, reevaluate = 3 },
             vib.attack.cw_l2 { steps = 30, search = 3, c = 0.1 },
             vib.attack.cw_l2 { targeted = true, steps = 30, search = 3, c = 0.1, kappa = 0.5 } }
  end,
}
