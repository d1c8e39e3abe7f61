-- expect: error_attack_key.lua:7: attack: unknown key 'splt'; known keys: batch, n, split (did you mean split?)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.fashion_mnist {},
  model = vib.seq { vib.linear { out = 10 } },
  attack = { n = 10,
    splt = "test",
    vib.attack.fgsm { eps = 0.1 } },
}
