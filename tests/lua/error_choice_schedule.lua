-- expect: error_choice_schedule.lua:6: vib.optim.sgd: 'schedule' = "cosin" is not one of const, exp, step, cosine (did you mean "cosine"?)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 3 } },
  optim = vib.optim.sgd { lr = 0.1, schedule = "cosin" },
}
