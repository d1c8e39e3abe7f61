-- expect: error_term_spatial.lua:7: term 'kde': layer 'n' outputs a (4, 2, 2) map, and terms read feature vectors; put the layer after a vib.global_avgpool {} or vib.flatten {}
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv", shape = { 1, 2, 2 } },
  model = vib.seq { vib.conv { out = 4, kernel = 3, padding = 1 }, vib.noise { name = "n" },
                    vib.linear { out = 3 } },
  objective = vib.obj.nlib { beta = 0.1, layer = "n" },
}
