-- expect: module_tiny.lua:13: vib.linear: unknown key 'biass'; known keys: bias, in, init, name, out, std (did you mean bias?)
local vib = require "vib"
local shared = require "module_tiny"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" }, params = { hidden = 4 },
  model = shared.bad_model,
}
