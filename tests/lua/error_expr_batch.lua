-- expect: error_expr_batch.lua:6: term 'r': mean: a term gives one value per example (rows), or one per batch with per = "batch"; the expression gives (1); say per = "batch"
local vib = require "vib"
local ce = vib.term.ce {}
local r = vib.term.custom { name = "r", value = function(v)
  local h = v.h1
  local m = h:square():mean()
  return m
end }
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 5, name = "h1" }, vib.relu {}, vib.linear { out = 3 } },
  objective = ce + 0.1 * r,
}
