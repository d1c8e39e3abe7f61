-- expect: error_expr_term_in_tensor.lua:6: add: tensor expressions combine values (vib.value, v.<name>) and numbers, got term; terms combine in the objective, not inside a custom term
local vib = require "vib"
local ce = vib.term.ce {}
local r = vib.term.custom { name = "r", value = function(v)
  local h = v.h1:sum(2)
  local bad = h + ce
  return bad
end }
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 5, name = "h1" }, vib.relu {}, vib.linear { out = 3 } },
  objective = ce + 0.1 * r,
}
