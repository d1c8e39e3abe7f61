-- expect: error_expr_param.lua:5: term 'r': value: 'h1.mu': layer 'h1' is a linear layer, which has no parameters to read; read its output by its name
local vib = require "vib"
local ce = vib.term.ce {}
local r = vib.term.custom { name = "r", value = function(v)
  local mu = v.h1.mu
  return mu:sum(2)
end }
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 5, name = "h1" }, vib.relu {}, vib.linear { out = 3 } },
  objective = ce + 0.1 * r,
}
