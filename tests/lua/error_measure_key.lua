-- expect: error_measure_key.lua:7: measure: unknown key 'estimator'; known keys: audit, bin_size, bins, estimators, every, k, kde_var, layers, plugin_samples, range, samples, selfcheck, spatial, split (did you mean estimators?)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 3 } },
  measure = {
    estimator = { "kde" },
  },
}
