-- expect: error_expr_axis.lua:6: term 'r': sum: axis 3 is outside a value of shape (B, 5) (axes 1 to 2, or -1 for the last)
local vib = require "vib"
local ce = vib.term.ce {}
local r = vib.term.custom { name = "r", value = function(v)
  local h = v.h1
  local s = h:sum(3)
  return s
end }
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 5, name = "h1" }, vib.relu {}, vib.linear { out = 3 } },
  objective = ce + 0.1 * r,
}
