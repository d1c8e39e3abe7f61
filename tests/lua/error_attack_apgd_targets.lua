-- expect: error_attack_apgd_targets.lua:7: vib.attack.apgd: targets is APGD-T's number of target classes; add targeted = true or drop it
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.fashion_mnist {},
  model = vib.seq { vib.linear { out = 10 } },
  attack = {
    vib.attack.apgd { eps = 0.1, targets = 3 } },
}
