-- attack_cw.lua: attack_tiny's model (a seconds-long VIB on 600 Fashion-MNIST images, 4 evaluation
-- samples) attacked by Carlini-Wagner L2 with its defaults (1000 steps, 9 searches from c = 1e-3),
-- untargeted and targeted, on the first 40 test images: the measured example of
-- docs/robustness.md.
local vib = require "vib"

return vib.experiment {
  name    = "attack_cw",
  data    = vib.data.fashion_mnist { scale = "pm1", train_limit = 600, test_limit = 100 },
  params  = { beta = 1e-3, seed = 1 },
  model   = function(p) return vib.seq {
    vib.linear { out = 64 }, vib.relu {},
    vib.gauss { k = 8, name = "z" }, vib.linear { out = 10 } } end,
  objective = function(p) return vib.obj.vib { beta = p.beta } end,
  optim   = vib.optim.adam { lr = 1e-3 },
  epochs  = 2, batch = 50, eval_samples = 4, ema = 0.9,
  attack  = { n = 40, batch = 40,
              vib.attack.cw_l2 {},
              vib.attack.cw_l2 { targeted = true } },
}
