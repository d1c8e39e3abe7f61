-- expect: error_attack_cw_key.lua:7: vib.attack.cw_l2: unknown key 'eps'; known keys: c, eot, kappa, lr, search, steps, targeted (did you mean eot?)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.fashion_mnist {},
  model = vib.seq { vib.linear { out = 10 } },
  attack = { n = 10,
    vib.attack.cw_l2 { eps = 0.1, steps = 10 } },
}
