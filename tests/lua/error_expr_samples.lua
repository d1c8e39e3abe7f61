-- expect: error_expr_samples.lua:7: term 'r': mul: the shapes (4B, 2) and (12B, 2) do not broadcast (B: the batch's rows; 12B: 12 samples per example)
local vib = require "vib"
local ce = vib.term.ce {}
local r = vib.term.custom { name = "r", value = function(v)
  local z1 = v.z1
  local z2 = v.z2
  local p = z1 * z2
  return p:sum(2)
end }
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.gauss { k = 2, samples = 4, name = "z1" }, vib.gauss { k = 2, samples = 3, name = "z2" },
                    vib.linear { out = 3 } },
  objective = ce + 0.1 * r,
}
