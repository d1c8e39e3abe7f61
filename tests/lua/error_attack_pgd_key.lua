-- expect: error_attack_pgd_key.lua:7: vib.attack.pgd: unknown key 'restart'; known keys: eps, loss, norm, random_start, restarts, step, steps, targeted (did you mean restarts?)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.fashion_mnist {},
  model = vib.seq { vib.linear { out = 10 } },
  attack = {
    vib.attack.pgd { eps = 0.1, restart = 2 } },
}
