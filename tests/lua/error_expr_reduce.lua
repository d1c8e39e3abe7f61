-- expect: error_expr_reduce.lua:7: term 'r': square: a term gives one value per example (rows), or one per batch with per = "batch"; the expression gives (B, 5); reduce the features (:sum(2))
local vib = require "vib"
local ce = vib.term.ce {}
local r = vib.term.custom { name = "r", value = function(v)
  local h = v.h1
  -- the result is still one row of 5 values per example
  return h:square()
end }
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 5, name = "h1" }, vib.relu {}, vib.linear { out = 3 } },
  objective = ce + 0.1 * r,
}
