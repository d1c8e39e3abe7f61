-- expect: error_plot_axis.lua:8: vib.plot.error_vs: 'gamma' is not a param of the experiment; params: beta
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  params = { beta = 1e-3 },
  model = vib.seq { vib.linear { out = 3 } },
  plots = {
    vib.plot.error_vs { "gamma" },
  },
}
