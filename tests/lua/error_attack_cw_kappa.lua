-- expect: error_attack_cw_kappa.lua:7: vib.attack.cw_l2: kappa must be >= 0 (a confidence margin)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.fashion_mnist {},
  model = vib.seq { vib.linear { out = 10 } },
  attack = { n = 10,
    vib.attack.cw_l2 { kappa = -1, steps = 10 } },
}
