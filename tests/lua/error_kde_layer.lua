-- expect: error_kde_layer.lua:6: term 'kde': layer 'f' adds no noise; read a vib.noise layer or give var (the kernel variance)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 4, name = "f" }, vib.linear { out = 3 } },
  objective = vib.obj.nlib { beta = 0.1, layer = "f" },
}
