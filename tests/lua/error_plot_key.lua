-- expect: error_plot_key.lua:7: vib.plot.info_plane: unknown key 'layer'; known keys: estimators, formats, height, layers, name, per_layer, splits, title, width
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 3 } },
  plots = {
    vib.plot.info_plane { layer = "z" },
  },
}
