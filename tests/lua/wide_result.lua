-- wide_result.lua: a point whose result.csv header passes 32 KiB (test_runner.c): 64 params with
-- long names and 32 measured Gaussian layers with long names, every estimator on both splits.
local vib = require "vib"

local params, names = { seed = 1 }, {}
for i = 1, 63 do
  params[string.format("a_parameter_with_a_rather_long_name_to_widen_the_header_%02d", i)] = i
end
for i = 1, 32 do names[i] = string.format("gaussian_layer_with_a_long_name_no_%02d", i) end

return vib.experiment {
  name    = "wide_result",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "standardize" },
  params  = params,
  model   = function(p)
    local layers = {}
    for k in pairs(params) do local _ = p[k] end
    for i = 1, 32 do layers[i] = vib.gauss { k = 2, name = names[i] } end
    layers[33] = vib.linear { out = 3 }
    return vib.seq(layers)
  end,
  objective = vib.obj.ce {},
  optim   = vib.optim.adam { lr = 0.01 },
  epochs  = 1, batch = 100,
  measure = { every = { 1 }, estimators = "all", samples = 40 },
}
