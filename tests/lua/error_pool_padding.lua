-- expect: error_pool_padding.lua:6: maxpool 'pool': padding=2 is more than half the kernel (2): a window would hold padding only; use padding <= 1
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv", shape = { 1, 2, 2 } },
  model = vib.seq {
    vib.maxpool { kernel = 2, padding = 2, name = "pool" },
    vib.linear { out = 3 },
  },
}
