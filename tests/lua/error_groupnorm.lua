-- expect: error_groupnorm.lua:7: groupnorm 'gn': groups=3 must be a positive divisor of the 4 channels
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv", shape = { 1, 2, 2 } },
  model = vib.seq {
    vib.conv { out = 4, kernel = 1 },
    vib.groupnorm { groups = 3, name = "gn" },
    vib.linear { out = 3 },
  },
}
