-- expect: error_derived_read.lua:5: a derived param reads p.hiden, which the experiment does not declare
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  params = { hidden = 4, width = function(p) return 2 * p.hiden end },
  model = function(p) return vib.seq { vib.linear { out = p.width }, vib.linear { out = 3 } } end,
}
