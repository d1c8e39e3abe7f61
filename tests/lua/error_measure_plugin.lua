-- expect: error_measure_plugin.lua:6: measure: estimator 'plugin' measures vib.bern layers, and no measured layer is one; remove it, or measure a Bernoulli layer
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 8 }, vib.tanh {}, vib.linear { out = 3 } },
  measure = { estimators = { "binning", "plugin" } },
}
