-- expect: error_expr_gather.lua:5: term 'r': gather: picks x[i, label_i] from a (rows, 3) value, one column per class; the value has shape (B, 5)
local vib = require "vib"
local ce = vib.term.ce {}
local r = vib.term.custom { name = "r", value = function(v)
  local g = v.h1:gather(v.labels)
  return g
end }
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 5, name = "h1" }, vib.relu {}, vib.linear { out = 3 } },
  objective = ce + 0.1 * r,
}
