-- expect: error_choice_sigma.lua:5: vib.gauss: 'sigma' = "softpuls" is not one of softplus, exp, unit (did you mean "softplus"?)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.gauss { k = 4, sigma = "softpuls", name = "z" }, vib.linear { out = 3 } },
}
