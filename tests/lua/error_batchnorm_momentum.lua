-- expect: error_batchnorm_momentum.lua:6: batchnorm 'bn': momentum=1.5 must be in [0, 1] (0.1 by default: r = 0.9 r + 0.1 batch)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq {
    vib.batchnorm { momentum = 1.5, name = "bn" },
    vib.linear { out = 3 },
  },
}
