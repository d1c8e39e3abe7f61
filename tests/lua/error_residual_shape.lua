-- expect: error_residual_shape.lua:6: residual 'block': the body maps (1, 2, 2) to (4, 1, 1), so the identity shortcut does not fit; give shortcut = "A" (subsample and zero-pad channels, no parameters) or "B" (1x1 convolution and batch norm), or make the body keep the shape
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv", shape = { 1, 2, 2 } },
  model = vib.seq {
    vib.residual { vib.conv { out = 4, kernel = 2 }, vib.batchnorm {}, name = "block" },
    vib.linear { out = 3 },
  },
}
