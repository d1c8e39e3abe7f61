-- expect: error_resplit.lua:4: fashion-mnist: resplit_test = 1.5 must be in [0, 1), e.g. 0.8
local vib = require "vib"
return vib.experiment { name = "e",
  data = vib.data.fashion_mnist { resplit_test = 1.5 },
  model = vib.seq { vib.linear { out = 3 } },
}
