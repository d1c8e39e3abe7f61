-- vib.lua: the experiment DSL. Embedded in the vibrun binary and returned by `require "vib"`.
--
-- Every constructor takes one table of named fields, rejects unknown keys and wrong types at the
-- caller's line, and records that line ("x.lua:14") so that errors found later (shape inference
-- at model build, an unknown layer name in an objective, a NaN loss) still point at the script.
-- Lua declares; C executes: these functions only build plain tables that vibrun turns into C
-- specs. Nothing here runs during training.
--
-- This file is the front: the DSL lives in the modules below, each a file of lua/ embedded beside
-- this one, loaded in this order into the one `vib` table they all fill:
--   vib_core.lua        checking: the user's line, named fields and types, "did you mean"
--   vib_settings.lua    the settings (epochs, batch, ...): the one list of them and their defaults
--   vib_model.lua       layers and vib.seq
--   vib_objective.lua   terms, expressions over them, vib.obj.*
--   vib_sweep.lua       vib.grid, vib.list, vib.zip, vib.random and their compositions
--   vib_experiment.lua  vib.optim.*, vib.data.*, vib.measure, vib.plot.*, vib.experiment, vib.point
--   vib_attack.lua      vib.attack.* and the attack block (run after training)
--   vib_resolve.lua     --set overrides and sweeps into resolved points; their canonical text

-- debug.getinfo (for script positions; `debug` leaves the sandbox after this file has run), the
-- loader of the embedded modules (lb_state.c), and the names of every choice (lb_point.c's table:
-- { sigma = { "softplus", "exp", "unit" }, ... }).
local getinfo, load_module, choice_names = ...

local vib = {}
local core = load_module("vib_core")(vib, getinfo)
core.choice_names, core.choices = choice_names, {}
-- "a|b|c": the names of each choice, as the "enum:" type of a key.
for key, names in pairs(choice_names) do core.choices[key] = table.concat(names, "|") end
-- The type of a key that takes choice `key` (optional unless required).
function core.enum(key, required)
  local names = core.choices[key] or error("vib.lua: no choice '" .. key .. "' in lb_point.c's table")
  return "enum:" .. names .. (required and "" or "?")
end
for _, m in ipairs({ "vib_settings", "vib_model", "vib_objective", "vib_sweep", "vib_experiment", "vib_attack", "vib_resolve" }) do
  load_module(m)(vib, core)
end

-- A misspelled constructor (vib.rleu, vib.optim.adma) is an error at its line that lists what
-- exists, instead of "attempt to call a nil value". Names starting with "_" are vibrun's own.
local function strict(t, name)
  return setmetatable(t, { __index = function(_, k)
    if type(k) == "string" and k:sub(1, 1) == "_" then return nil end
    local known, hint = core.known_keys(k, t, name .. ".",
                                   function(key) return type(key) == "string" and key:sub(1, 1) ~= "_" end)
    local _, count = known:gsub(", ", "")
    if hint ~= "" and count >= 12 then   -- a suggestion, and a list too long to read past it
      core.fail(string.format("%s.%s does not exist%s; docs/dsl.md and docs/sweeps.md list what %s has", name, tostring(k), hint, name))
    end
    core.fail(string.format("%s.%s does not exist%s; %s has: %s", name, tostring(k), hint, name, known))
  end })
end
for _, sub in ipairs({ "term", "obj", "optim", "data", "plot", "attack" }) do strict(vib[sub], "vib." .. sub) end
strict(vib, "vib")

return vib