-- expect: error_missing_data.lua:4: cifar10: data set not found
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.cifar10 { dir = "no/such/dir" },
  model = vib.seq { vib.linear { out = 3 } },
}
