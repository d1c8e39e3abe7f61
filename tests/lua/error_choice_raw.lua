-- expect: error_choice_raw.lua:6: 'sigma' = "softplsu" is not one of softplus, exp, unit
local vib = require "vib"
-- A layer table made by hand passes vib.seq without the constructor's checks; reading the point
-- maps its choice through lb_point.c's table, which refuses the name instead of taking softplus.
local z = vib.gauss { k = 4, name = "z" }
z.sigma = "softplsu"
z.where = "error_choice_raw.lua:6"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { z, vib.linear { out = 3 } },
  objective = vib.obj.vib { beta = 1e-3 },
}
