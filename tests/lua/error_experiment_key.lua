-- expect: error_experiment_key.lua:7: vib.experiment: unknown key 'epoch'
local vib = require "vib"
return vib.experiment {
  name = "e",
  data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 3 } },
  epoch = 3,
}
