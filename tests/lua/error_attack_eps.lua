-- expect: error_attack_eps.lua:7: vib.attack.pgd: eps[2] = -0.1 must be in [0, 1] (pixels of [0, 1])
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.fashion_mnist {},
  model = vib.seq { vib.linear { out = 10 } },
  attack = { n = 10,
    vib.attack.pgd { eps = { 0.1, -0.1 }, steps = 10 } },
}
