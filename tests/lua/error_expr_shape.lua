-- expect: error_expr_shape.lua:7: term 'r': add: the shapes (B, 5) and (B, 3) do not broadcast
local vib = require "vib"
local ce = vib.term.ce {}
local r = vib.term.custom { name = "r", value = function(v)
  local h = v.h1
  local o = v.logits
  local s = h + o
  return s:sum(2)
end }
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 5, name = "h1" }, vib.relu {}, vib.linear { out = 3 } },
  objective = ce + 0.1 * r,
}
