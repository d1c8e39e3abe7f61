-- expect: error_enum.lua:4: vib.data.csv: 'scale' = "pm2" is not one of none, unit, pm1, standardize
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv", scale = "pm2" },
  model = vib.seq { vib.linear { out = 3 } },
}
