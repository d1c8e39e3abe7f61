-- expect: error_bern_particles.lua:5: bern 'h': particles=0 must be >= 1 (samples of the layer per incoming particle)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.bern { units = 8, particles = 0, name = "h" }, vib.linear { out = 3 } },
}
