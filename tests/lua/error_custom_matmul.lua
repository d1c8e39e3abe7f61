-- expect: error_custom_matmul.lua:6: term 'r': matmul: multiplies (M, K) by (K, N); the shapes are (B, 5) and (B, 3)
local vib = require "vib"
local ce = vib.term.ce {}
local r = vib.term.custom { name = "r", value = function(v)
  local h, o = v.h1, v.logits
  local m = h:matmul(o)
  return m:sum(2)
end }
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 5, name = "h1" }, vib.relu {}, vib.linear { out = 3 } },
  objective = ce + 0.1 * r,
}
