-- expect: error_unknown_key.lua:6: vib.linear: unknown key 'ot'; known keys: bias, in, init, name, out, std
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq {
    vib.linear { ot = 10 },
  },
}
