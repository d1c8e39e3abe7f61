-- attack_apgdt.lua: attack_tiny's model attacked by APGD-T under the paper's protocol, the adaptive
-- protocol with APGD-T added (auto { targets }) and C&W L2 with EOT, the attack batch a parameter the
-- model does not read (test_attack.c runs it with ab = 7 and ab = 64: the same bytes).
local vib = require "vib"

return vib.experiment {
  name    = "attack_apgdt",
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
             vib.attack.apgd { eps = 0.05, steps = 10 },
             vib.attack.apgd { eps = 0.05, steps = 10, targeted = true, targets = 3 },
             vib.attack.auto { eps = 0.05, steps = 5, eot = 2, reevaluate = 2, targets = 3 },
             vib.attack.cw_l2 { steps = 30, search = 3, c = 0.1, eot = 3 } }
  end,
}
