-- require_tiny.lua: tiny.lua's experiment with its model from the module beside it.
local vib = require "vib"
local shared = require "module_tiny"
assert(require "module_tiny" == shared, "a module runs once")

return vib.experiment {
  name    = "require_tiny",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "standardize" },
  params  = { hidden = 16 },
  model   = shared.model,
  epochs  = 1, batch = 20,
}
