-- expect: error_measure_estimator.lua:6: measure: unknown estimator 'mine'; known: variational, kde, binning, ksg, plugin
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 3 } },
  measure = { estimators = { "kde", "mine" } },
}
