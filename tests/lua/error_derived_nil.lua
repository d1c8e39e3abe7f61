-- expect: error_derived_nil.lua:5: derived param 'width' returned nil; return a number, a string or a boolean
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  params = { hidden = 8, width = function(p) if p.hidden > 100 then return 2 * p.hidden end end },
  model = function(p) return vib.seq { vib.linear { out = p.width }, vib.linear { out = 3 } } end,
}
