-- expect: error_gauss_samples.lua:5: gauss 'z': samples=0 must be >= 1
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.gauss { k = 2, samples = 0, name = "z" }, vib.linear { out = 3 } },
}
