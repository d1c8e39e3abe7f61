-- expect: error_constructor_data.lua:4: vib.data.fashion does not exist (did you mean vib.data.fashion_mnist?); vib.data has: cifar10, csv, discrete, fashion_mnist, mnist, tishby
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.fashion { scale = "pm1" },
  model = vib.seq { vib.linear { out = 3 } },
  optim = vib.optim.adam { lr = 1e-3 },
}
