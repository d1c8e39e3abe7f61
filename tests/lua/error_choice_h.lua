-- expect: error_choice_h.lua:6: vib.obj.nlib: 'h' = "squared" is not one of linear, square, exp (did you mean "square"?)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 4 }, vib.noise { name = "z" }, vib.linear { out = 3 } },
  objective = vib.obj.nlib { beta = 0.1, h = "squared" },
}
