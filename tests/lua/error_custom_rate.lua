-- expect: error_custom_rate.lua:4: term 'r': rate = true, and the expression reads no stochastic layer; say which layer's I(X;Z) it bounds with layer = "..."
local vib = require "vib"
local ce = vib.term.ce {}
local r = vib.term.custom { name = "r", rate = true, value = function(v)
  local s = v.h1:square():sum(2)
  return s
end }
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 5, name = "h1" }, vib.relu {}, vib.linear { out = 3 } },
  objective = ce + 0.1 * r,
}
