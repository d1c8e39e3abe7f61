-- expect: error_expr_value.lua:6: term 'r': value: 'h2' names no value; the values are logits, input, labels
local vib = require "vib"
local ce = vib.term.ce {}
local r = vib.term.custom { name = "r", value = function(v)
  local h = v.h1
  local g = v.h2
  return (h:square():sum(2) + g:sum(2))
end }
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 5, name = "h1" }, vib.relu {}, vib.linear { out = 3 } },
  objective = ce + 0.1 * r,
}
