-- expect: error_residual_stochastic.lua:7: gauss 'z': a gauss layer cannot be inside residual block 'block' (its samples would not add to the shortcut's rows); put it after the block
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq {
    vib.residual { vib.linear { out = 4 }, vib.relu {},
                   vib.gauss { k = 4, name = "z" }, name = "block" },
    vib.linear { out = 3 },
  },
}
