-- module_tiny.lua: a module beside the test scripts (require "module_tiny"), the way experiment
-- pairs share their model; require_tiny.lua and the error_module_*.lua scripts use it.
local vib = require "vib"

local M = {}

function M.model(p)
  return vib.seq { vib.linear { out = p.hidden, name = "hidden" }, vib.tanh {}, vib.linear { out = 3, name = "logits" } }
end

-- a model whose layer has a misspelled key, for error_module_key.lua: the error names this line
function M.bad_model(p)
  return vib.seq { vib.linear { out = p.hidden, biass = false } }
end

return M
