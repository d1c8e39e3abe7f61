-- attack_tiny.lua: a seconds-long VIB on 600 Fashion-MNIST images (pm1 scale, EMA on, 4 evaluation
-- samples) with an attack block: FGSM over two epsilons, targeted FGSM, L-inf / L2 PGD and the
-- adaptive protocol on the first 40 test images (test_attack.c).
local vib = require "vib"

return vib.experiment {
  name    = "attack_tiny",
  data    = vib.data.fashion_mnist { scale = "pm1", train_limit = 600, test_limit = 100 },
  params  = { beta = 1e-3, seed = 1 },
  model   = function(p) return vib.seq {
    vib.linear { out = 64 }, vib.relu {},
    vib.gauss { k = 8, name = "z" }, vib.linear { out = 10 } } end,
  objective = function(p) return vib.obj.vib { beta = p.beta } end,
  optim   = vib.optim.adam { lr = 1e-3 },
  epochs  = 2, batch = 50, eval_samples = 4, ema = 0.9,
  attack  = { n = 40, batch = 16,
              vib.attack.fgsm { eps = { 0.05, 0.2 } },
              vib.attack.fgsm { eps = 0.1, targeted = true },
              vib.attack.pgd { eps = 0.1, steps = 5, restarts = 2 },
              vib.attack.pgd { norm = "l2", eps = 1.0, steps = 5, loss = "dlr" },
              vib.attack.auto { eps = 0.1, steps = 5, eot = 3, reevaluate = 3 } },
}
