-- vib_resolve.lua: from an experiment and its --set overrides to the list of resolved points
-- (vib._resolve), and the canonical text that point ids hash (vib._canon, vib._title).
-- Loaded by vib.lua.

local vib, core = ...
local settable = core.settable
local TAG = core.TAG
local fail = core.fail
local sorted_keys = core.sorted_keys
local tracked = core.tracked

-- ---- resolution: --set overrides, sweep points, model and objective per point ----------------

-- Parses a --set value with the type of the value it replaces.
local function coerce(key, s, old, ty)
  ty = ty or type(old)
  if ty == "int" or math.type(old) == "integer" then
    local v = math.tointeger(tonumber(s))
    if v == nil then error(string.format("--set %s=%s: '%s' expects an integer", key, s, key), 0) end
    -- an int setting is a C int (the seed is 64-bit): checked here, before it could wrap
    if ty == "int" and key ~= "seed" and (v > 2147483647 or v < -2147483647) then
      error(string.format("--set %s=%s: '%s' must be at most 2147483647", key, s, key), 0)
    end
    return v
  elseif ty == "number" then
    local v = tonumber(s)
    if v == nil then error(string.format("--set %s=%s: '%s' expects a number", key, s, key), 0) end
    return v
  elseif ty == "boolean" then
    if s == "true" then return true elseif s == "false" then return false end
    error(string.format("--set %s=%s: '%s' expects true or false", key, s, key), 0)
  elseif ty:sub(1, 5) == "enum:" then   -- a setting that takes a choice (vib_settings.lua)
    local names = ty:sub(6)
    for c in names:gmatch("[^|]+") do if c == s then return s end end
    error(string.format("--set %s=%s: '%s' is one of %s", key, s, key, (names:gsub("|", ", "))), 0)
  elseif ty == "function" then          -- a derived param fixed from the command line
    if tonumber(s) ~= nil then return math.tointeger(tonumber(s)) or tonumber(s) end
    if s == "true" or s == "false" then return s == "true" end
  end
  return s
end

-- Keys that say where a value came from, not what it is: no part of a point's identity.
local PROVENANCE = { where = true, [TAG] = true, estimators_listed = true, layer_from = true }

-- A value as text: tables as {k=v,...} in sorted key order (provenance left out), strings as Lua
-- literals, integers as they are, and floats through num.
local function render(v, num)
  local t = type(v)
  if t == "table" then
    local parts = {}
    for _, k in ipairs(sorted_keys(v)) do
      if not PROVENANCE[k] then parts[#parts + 1] = tostring(k) .. "=" .. render(v[k], num) end
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    return num(v)
  elseif t == "string" then
    return string.format("%q", v)
  end
  return tostring(v)
end

-- The canonical form, which point ids hash: every float in 17 significant digits.
local function canon(v) return render(v, function(x) return string.format("%.17g", x) end) end
vib._canon = canon

-- The same with each float in the fewest digits that read back as the same double (0.8, not
-- 0.80000000000000004): for what people read (point titles, progress, legends).
local function short(x)
  for digits = 15, 17 do
    local s = string.format("%." .. digits .. "g", x)
    if tonumber(s) == x then return s end
  end
  return string.format("%.17g", x)
end
vib._title = function(v) return render(v, short) end

-- Evaluates the derived params of point p (values that are functions of the point) in place,
-- each once, in any order they need each other; `reads` records the keys they read.
local function derive(p, reads, where_of)
  local fns, state = {}, {}
  for k, v in pairs(p) do if type(v) == "function" then fns[k] = v end end
  if next(fns) == nil then return end
  local view
  local function get(k)
    if fns[k] and state[k] ~= "done" then
      if state[k] == "busy" then error(string.format("%s: derived param '%s' depends on itself", where_of(k), k), 0) end
      state[k] = "busy"
      local v = core.call_user(fns[k], view)
      local ty = type(v)
      if ty ~= "number" and ty ~= "string" and ty ~= "boolean" then
        error(string.format("%s: derived param '%s' returned %s; return a number, a string or a boolean",
                            where_of(k), k, ty == "nil" and "nil" or "a " .. ty), 0)
      end
      p[k], state[k] = v, "done"
    end
    return p[k]
  end
  view = setmetatable({}, { __index = function(_, k)
                              reads[k] = true
                              if p[k] == nil then       -- not declared: a typo in the derivation
                                fail(string.format("a derived param reads p.%s, which the experiment does not "
                                                   .. "declare; declare it in params or fix the name", tostring(k)))
                              end
                              return get(k)
                            end,
                            __newindex = function() error("a derived param's function may not change the point", 0) end,
                            __pairs = function() for k in pairs(p) do reads[k] = true; get(k) end; return next, p, nil end })
  for _, k in ipairs(sorted_keys(fns)) do get(k) end
end

-- The objective with each term that was given no layer reading the one layer of the model of its
-- kinds (the term's layer_from, vib_objective.lua); more than one such layer is an error at the
-- constructor's line that lists them. Terms and objective are copied where they change.
local function pick_layers(model, obj)
  local out = obj
  for i, t in ipairs(obj) do
    local from = t.layer_from
    if from then
      local names, kinds = {}, {}
      for j, l in ipairs(model) do
        for _, k in ipairs(from.kinds) do
          if l.kind == k then names[#names + 1] = l.name or (l.kind .. j) end
        end
      end
      for n, k in ipairs(from.kinds) do kinds[n] = "vib." .. k end
      if #names > 1 then
        error(string.format("%s: %s: the model has %d layers it could read (%s: %s); name one, e.g. layer = \"%s\"",
                            t.where, from.fn, #names, table.concat(kinds, " or "), table.concat(names, ", "), names[1]), 0)
      end
      if #names == 1 and names[1] ~= t.layer then
        if out == obj then
          out = setmetatable({}, getmetatable(obj))
          for k, v in pairs(obj) do out[k] = v end
        end
        local c = setmetatable({}, getmetatable(t))
        for k, v in pairs(t) do c[k] = v end
        c.layer = names[1]
        out[i] = c
      end
    end
  end
  return out
end

-- The keys --set accepts for experiment e: its params, then the settings it does not declare as
-- params, each list sorted (vibrun --keys; the bash completion of --set).
function vib._keys(e)
  local keys = sorted_keys(e.params or {})
  for _, k in ipairs(sorted_keys(settable)) do
    if not (e.params and e.params[k] ~= nil) then keys[#keys + 1] = k end
  end
  return keys
end

-- Returns the list of resolved points of experiment e with overrides `sets` ({key=string}), and in
-- its field `warnings` the messages vibrun prints before running them.
--
-- Every param must be read by the experiment (model, objective, data or optim functions, derived
-- params, vib.when conditions) for at least one point, else it is probably a typo: swept params
-- always; declared ones when no --set narrows the experiment (a --set may leave some unused) and
-- the script's code never names them.
-- `seed` and the settings (epochs, batch, ...) are consumed by vibrun itself.
function vib._resolve(e, sets)
  local base = {}
  for k, v in pairs(e.params or {}) do base[k] = v end
  local top = {}
  for _, k in ipairs(sorted_keys(sets)) do
    local s = sets[k]
    if base[k] ~= nil then base[k] = coerce(k, s, base[k])
    elseif settable[k] then top[k] = coerce(k, s, e[k], settable[k])
    else
      local known = sorted_keys(base)
      for _, kk in ipairs(sorted_keys(settable)) do known[#known + 1] = kk end
      error(string.format("--set %s=%s: '%s' is neither a param of %s nor a setting; known: %s", k, s, k,
                          e.name, table.concat(known, ", ")), 0)
    end
  end
  local function where_of(k) return e.param_where and e.param_where[k] or e.where end
  local reads = {}
  -- The sweep's combos (param overrides); replicates cross it with seeds s, s+1, ..., s+n-1.
  local sw = e.sweep
  local replicates = top.replicates or e.replicates
  if replicates and replicates < 1 then
    error(string.format("--set replicates=%d: replicates must be >= 1 (the seeds of each configuration)", replicates), 0)
  end
  if replicates and replicates > 1 and sets.seed == nil then
    local s0 = base.seed or top.seed or e.seed or 1
    local seeds = {}
    for i = 0, replicates - 1 do seeds[#seeds + 1] = s0 + i end
    local rep = core.sweep(e.where, function() local c = {}; for i, s in ipairs(seeds) do c[i] = { seed = s } end; return c end)
    sw = sw and vib.cross { sw, rep } or rep
  end
  local combos = { {} }
  local swept = {}
  if sw then
    local raw = sw.expand(base, reads)
    -- A key fixed by --set is removed from every combo; the duplicates that leaves are dropped.
    combos = {}
    local seen = {}
    for _, c in ipairs(raw) do
      local c2 = {}
      for k, v in pairs(c) do
        if base[k] == nil and not settable[k] then
          error(string.format("%s: sweep axis '%s' is not a param; declare it in params (e.g. %s = %s)",
                              sw.where, k, k, canon(v)), 0)
        end
        if sets[k] == nil then c2[k] = v; swept[k] = true end
      end
      local key = canon(c2)
      if not seen[key] then
        seen[key] = true
        combos[#combos + 1] = c2
      end
    end
  end
  local points = {}
  local by_key = {}
  local by_training, twins = {}, {}     -- points that differ only in params nothing trains with
  for _, c in ipairs(combos) do
    local p = {}
    for k, v in pairs(base) do p[k] = v end
    -- One replicate picked by --set seed (a config.lua replay): its seed stays a param, as it was
    -- in the sweep over seeds, so that it resolves to the same point.
    if replicates and replicates > 1 and sets.seed ~= nil and base.seed == nil then p.seed = top.seed end
    local settings = {}
    for k in pairs(settable) do settings[k] = top[k] ~= nil and top[k] or e[k] end
    for k, v in pairs(c) do
      if settable[k] and base[k] == nil then settings[k] = v end
      p[k] = v                          -- swept settings are columns of results.csv too
    end
    derive(p, reads, where_of)
    for k, v in pairs(p) do
      if settable[k] and base[k] == nil and c[k] ~= nil then settings[k] = v end
    end
    local view = tracked(p, reads, true)
    local model = e.model
    if type(model) == "function" then model = core.call_user(model, view) end
    if vib.kind(model) == "layer" then model = vib.seq { model } end
    if vib.kind(model) ~= "seq" then
      error(string.format("%s: the model function must return vib.seq { ... }, got %s", e.where,
                          vib.kind(model) or type(model)), 0)
    end
    local obj = e.objective or vib.obj.ce {}
    if type(obj) == "function" then obj = core.call_user(obj, view) end
    if vib.kind(obj) == "term" then obj = vib.obj.sum { obj } end
    if vib.kind(obj) == "expr" then obj = core.compile_expr(obj, e.where) end
    if vib.kind(obj) ~= "objective" then
      error(string.format("%s: 'objective' must be vib.obj.*, an expression of vib.term.* (ce + beta * kl), or a function(p) returning one", e.where), 0)
    end
    obj = pick_layers(model, obj)
    local data = e.data
    if type(data) == "function" then data = core.call_user(data, view) end
    if vib.kind(data) ~= "data" then
      error(string.format("%s: the data function must return vib.data.*, got %s", e.where, vib.kind(data) or type(data)), 0)
    end
    local optim = e.optim or vib.optim.adam {}
    if type(optim) == "function" then optim = core.call_user(optim, view) end
    if vib.kind(optim) ~= "optim" then
      error(string.format("%s: the optim function must return vib.optim.*, got %s", e.where,
                          vib.kind(optim) or type(optim)), 0)
    end
    local measure = e.measure
    if type(measure) == "function" then measure = core.call_user(measure, view) end
    if measure ~= nil then measure = vib.measure(measure) end
    local init = e.init
    if type(init) == "function" then init = core.call_user(init, view) end
    if init ~= nil and vib.kind(init) ~= "load" then
      error(string.format("%s: the init function must return vib.load { ... }, got %s", e.where,
                          vib.kind(init) or type(init)), 0)
    end
    local attack = e.attack     -- run after training: not part of what the point trains (its id)
    if type(attack) == "function" then attack = core.call_user(attack, view) end
    if attack ~= nil then attack = vib.attack_block(attack) end
    local seed = p.seed ~= nil and p.seed or settings.seed or 1
    local seeded = data.name == "tishby" and data.split_seed == nil and data.shuffle ~= false and "split_seed"
                   or data.name == "discrete" and data.seed == nil and "seed"
    if seeded then
      -- the split (tishby) or the draws (discrete) follow the point's seed; a copy, so that points
      -- of other seeds get their own
      local d = {}
      for k, v in pairs(data) do d[k] = v end
      d[seeded] = seed
      data = d
    end
    local streams = top.streams or e.streams or "common"
    local point = {
      name = e.name, params = p, model = model, objective = obj, data = data, optim = optim,
      measure = measure, seed = seed, streams = streams, init = init, attack = attack,
      plots = e.plots,          -- the figures to draw at the end (not part of the point's identity)
    }
    for _, st in ipairs(core.settings) do
      if point[st.name] == nil and st.name ~= "replicates" then
        local v = settings[st.name]
        if v == nil then v = e[st.name] end
        if v == nil then v = st.default end
        point[st.name] = v
      end
    end
    -- config.lua's settings line: every setting --set may change, in the list's order, so that a
    -- replay passes them all (replicates too: with it, the replayed seed stays a param).
    local line = {}
    for _, st in ipairs(core.settings) do
      if st.set and (st.config ~= "given" or settings[st.name] ~= nil) then
        local v = point[st.name]
        if st.name == "replicates" then v = replicates or 1 end
        line[#line + 1] = st.name .. " = " .. canon(v)
      end
    end
    point.settings_lua = "{ " .. table.concat(line, ", ") .. " }"
    -- What the point trains: its identity without its name and params.
    local ident = { model = model, objective = obj, data = data,
                    optim = point.optim, epochs = point.epochs, batch = point.batch, ema = point.ema,
                    seed = seed, train_eval_limit = point.train_eval_limit,
                    eval_samples = point.eval_samples, eval_avg = point.eval_avg,
                    eval_passes = point.eval_passes > 1 and point.eval_passes or nil,
                    ema_mode = point.ema > 0 and point.ema_mode or nil, measure = measure,
                    streams = streams ~= "common" and streams or nil,
                    augment = point.augment ~= "none" and point.augment or nil,
                    init = init }   -- the file's SHA-256 joins the id in lb_point.c
    local training = canon(ident)
    ident.name, ident.params = point.name, p
    point.key = canon(ident)
    if by_key[point.key] then
      error(string.format("%s: the sweep gives the point %s twice; remove the duplicate value",
                          sw and sw.where or e.where, canon(p)), 0)
    end
    by_key[point.key] = true
    -- Two params that resolve to one objective (uib's ib at beta and ceb at gamma = beta - 1).
    if by_training[training] then twins[#twins + 1] = { by_training[training], vib._title(p) }
    else by_training[training] = vib._title(p) end
    points[#points + 1] = point
  end
  -- Params that nothing reads: probably a typo, and a sweep over one repeats the same training.
  local function unread(k) return not reads[k] and k ~= "seed" and not settable[k] end
  for _, k in ipairs(sorted_keys(swept)) do
    if unread(k) then
      error(string.format("%s: the sweep varies '%s' but the experiment never reads it (p.%s in model, objective, data or optim); a typo?",
                          sw.where, k, k), 0)
    end
  end
  -- A declared param may serve another configuration (--set kind=ceb reads gamma): it counts as
  -- read when the script's code (comments aside) mentions p.<name> or p["<name>"].
  -- (The text of the modules the script required counts as its own: lb_state.c collects it.)
  local code = ((vib._source or "") .. "\n" .. (vib._module_source or ""))
                 :gsub("%-%-%[(=*)%[.-%]%1%]", ""):gsub("%-%-[^\n]*", "")
  local function mentioned(k)
    local e = k:gsub("%p", "%%%0")
    return code:find("%." .. e .. "%f[^%w_]") or code:find("%[%s*[\"']" .. e .. "[\"']%s*%]")
  end
  if next(sets) == nil then
    for _, k in ipairs(sorted_keys(base)) do
      if unread(k) and not mentioned(k) then
        error(string.format("%s: param '%s' is never read by the experiment (p.%s in model, objective, data or optim); a typo? remove it or use it",
                            where_of(k), k, k), 0)
      end
    end
  end
  -- Warnings vibrun prints (points.warnings, beside the list of points).
  points.warnings = {}
  for _, t in ipairs(twins) do
    points.warnings[#points.warnings + 1] = string.format(
      "%s: the points %s and %s resolve to the same model, objective and settings, so they train identically; "
      .. "drop one from the sweep", sw and sw.where or e.where, t[1], t[2])
  end
  return points
end
