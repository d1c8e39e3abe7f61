-- attack_resume.lua: attack_tiny's VIB with an attack of many small batches (40 images, 4 at a time,
-- 80 batches in all), so that a test can stop or kill it between batches and resume it
-- (test_attack_cmd.c: kill -9 during the in-run attack then --resume, SIGINT during `vibrun attack`
-- then `vibrun attack` again, each giving the bytes of an uninterrupted attack). The adaptive attack
-- with APGD-T comes first, so that the batches a killed attack left are its three phases'.
local vib = require "vib"

return vib.experiment {
  name    = "attack_resume",
  data    = vib.data.fashion_mnist { scale = "pm1", train_limit = 600, test_limit = 100 },
  params  = { beta = 1e-3, seed = 1 },
  model   = function(p) return vib.seq {
    vib.linear { out = 64 }, vib.relu {},
    vib.gauss { k = 8, name = "z" }, vib.linear { out = 10 } } end,
  objective = function(p) return vib.obj.vib { beta = p.beta } end,
  optim   = vib.optim.adam { lr = 1e-3 },
  epochs  = 2, batch = 50, eval_samples = 4, ema = 0.9,
  attack  = { n = 40, batch = 4,
              vib.attack.auto { eps = { 0.05, 0.1 }, steps = 20, eot = 3, reevaluate = 3, targets = 2 },
              vib.attack.fgsm { eps = { 0.05, 0.2 } },
              vib.attack.pgd { eps = 0.1, steps = 20, restarts = 2 },
              vib.attack.pgd { norm = "l2", eps = 1.0, steps = 20 },
              vib.attack.cw_l2 { steps = 20, search = 3, c = 0.1 } },
}
