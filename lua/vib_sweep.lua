-- vib_sweep.lua: sweeps over params (vib.grid, vib.list, vib.zip, vib.random and their
-- compositions a * b, a + b), their value helpers (vib.logspace, ...) and distributions.
-- Loaded by vib.lua.

local vib, core = ...
local TAG = core.TAG
local fail = core.fail
local user_where = core.user_where
local source_where = core.source_where
local sorted_keys = core.sorted_keys
local is_int = core.is_int
local tracked = core.tracked
local check_value_type = core.check_value_type

-- ---- sweeps ---------------------------------------------------------------------------------
--
-- A sweep is a list of "combos", each a table of param overrides, expanded at resolution (when
-- the declared params are known, for vib.when conditions). Constructors:
--   vib.grid { k = { values } }          Cartesian product; keys vary in sorted order, the last
--                                        fastest; vib.when(cond, values) makes an axis conditional
--   vib.list { { k = v, ... }, ... }     explicit points
--   vib.zip { k = { values } }           the i-th point takes the i-th value of every list
--   vib.random { n = 50, seed = 1, k = vib.loguniform(a, b) | vib.uniform(a, b) |
--                vib.choice { ... } | vib.randint(a, b) | constant }   seeded draws
--   a * b (vib.cross { a, b })           every combo of a with every combo of b
--   a + b (vib.concat { a, b })          the points of a, then those of b
-- A value may be a function of the point (a derived param), evaluated after the combo is applied.

function vib.logspace(a, b, n)
  if not (type(a) == "number" and type(b) == "number" and is_int(n) and n >= 1) then
    fail("vib.logspace(a, b, n): exponents a, b and a count n >= 1, e.g. vib.logspace(-9, 0, 19)")
  end
  local out = {}
  for i = 0, n - 1 do out[#out + 1] = 10 ^ (n == 1 and a or a + (b - a) * i / (n - 1)) end
  return out
end

function vib.linspace(a, b, n)
  if not (type(a) == "number" and type(b) == "number" and is_int(n) and n >= 1) then
    fail("vib.linspace(a, b, n): end points a, b and a count n >= 1")
  end
  local out = {}
  for i = 0, n - 1 do out[#out + 1] = n == 1 and a or a + (b - a) * i / (n - 1) end
  return out
end

-- About n epochs spaced evenly in log scale between 1 and last, rounded and deduplicated, with 0
-- first: the measurement schedule of Shwartz-Ziv & Tishby's planes (dense early, sparse late).
function vib.log_epochs(last, n)
  if not (is_int(last) and last >= 1 and is_int(n) and n >= 1) then
    fail("vib.log_epochs(last, n): the last epoch >= 1 and a count n >= 1, e.g. vib.log_epochs(8000, 100)")
  end
  local out, seen = { 0 }, { [0] = true }
  for i = 0, n - 1 do
    local e = math.tointeger(math.floor(10 ^ (n == 1 and 0 or math.log(last, 10) * i / (n - 1)) + 0.5))
    if not seen[e] then out[#out + 1], seen[e] = e, true end
  end
  return out
end

local SWEEP = {}
local function sweep(where, expand)
  return setmetatable({ [TAG] = "sweep", where = where, expand = expand }, SWEEP)
end
local function merge(a, b, where)
  local c = {}
  for k, v in pairs(a) do c[k] = v end
  for k, v in pairs(b) do
    if c[k] ~= nil then error(string.format("%s: two crossed sweeps both set '%s'", where, k), 0) end
    c[k] = v
  end
  return c
end
local function as_sweep(s, fn)
  if vib.kind(s) ~= "sweep" then
    fail(string.format("%s: expected sweeps (vib.grid, vib.list, vib.zip, vib.random), got %s", fn, vib.kind(s) or type(s)))
  end
  return s
end
function vib.cross(t)
  if type(t) ~= "table" or #t == 0 then fail("vib.cross expects a list of sweeps, e.g. vib.cross { a, b }") end
  local parts = {}
  for i, s in ipairs(t) do parts[i] = as_sweep(s, "vib.cross") end
  local where = user_where() or parts[1].where
  return sweep(where, function(base, reads)
    local combos = { {} }
    for _, s in ipairs(parts) do
      local nxt = {}
      for _, c in ipairs(combos) do
        for _, d in ipairs(s.expand(base, reads)) do nxt[#nxt + 1] = merge(c, d, where) end
      end
      combos = nxt
    end
    return combos
  end)
end
function vib.concat(t)
  if type(t) ~= "table" or #t == 0 then fail("vib.concat expects a list of sweeps, e.g. vib.concat { a, b }") end
  local parts = {}
  for i, s in ipairs(t) do parts[i] = as_sweep(s, "vib.concat") end
  return sweep(user_where() or parts[1].where, function(base, reads)
    local combos = {}
    for _, s in ipairs(parts) do
      for _, c in ipairs(s.expand(base, reads)) do combos[#combos + 1] = c end
    end
    return combos
  end)
end
SWEEP.__mul = function(a, b) return vib.cross { a, b } end
SWEEP.__add = function(a, b) return vib.concat { a, b } end

-- vib.when(cond, values): a grid axis that applies only to the points where cond(p) holds; the
-- others keep the declared value. cond sees the declared params and the unconditional axes.
function vib.when(cond, values)
  if type(cond) ~= "function" or type(values) ~= "table" then
    fail("vib.when(cond, values): a function(p) returning true or false, and a list of values")
  end
  return { [TAG] = "when", cond = cond, values = values }
end

function vib.grid(t)
  if type(t) ~= "table" then fail("vib.grid expects a table of lists, e.g. vib.grid { beta = { 1e-3, 1e-2 } }") end
  local where = user_where() or source_where("grid")
  local axes, conds = {}, {}
  for _, k in ipairs(sorted_keys(t)) do
    local v = t[k]
    if type(k) ~= "string" then fail("vib.grid: every axis is named (beta = { ... })") end
    local cond
    if vib.kind(v) == "when" then cond, v = v.cond, v.values end
    if type(v) ~= "table" then v = { v } end
    if #v == 0 then fail(string.format("vib.grid: axis '%s' has no values; give at least one", k)) end
    for _, x in ipairs(v) do check_value_type("vib.grid", k, x) end
    if cond then conds[#conds + 1] = { key = k, values = v, cond = cond }
    else axes[#axes + 1] = { key = k, values = v } end
  end
  return sweep(where, function(base, reads)
    local combos = { {} }
    local function expand(axis)
      local nxt = {}
      for _, c in ipairs(combos) do
        local apply = true
        if axis.cond then
          local view = {}
          for k, x in pairs(base) do view[k] = x end
          for k, x in pairs(c) do view[k] = x end
          apply = axis.cond(tracked(view, reads))
        end
        if apply then
          for _, v in ipairs(axis.values) do
            local c2 = {}
            for k, x in pairs(c) do c2[k] = x end
            c2[axis.key] = v
            nxt[#nxt + 1] = c2
          end
        else
          nxt[#nxt + 1] = c
        end
      end
      combos = nxt
    end
    for _, a in ipairs(axes) do expand(a) end
    for _, a in ipairs(conds) do expand(a) end
    return combos
  end)
end

function vib.list(t)
  if type(t) ~= "table" then fail("vib.list expects a list of points, e.g. vib.list { { beta = 1e-3 }, { beta = 1e-2, lr = 1e-4 } }") end
  if #t == 0 then fail("vib.list: the list has no points; give at least one, e.g. vib.list { { beta = 1e-3 } }") end
  local combos = {}
  for i, c in ipairs(t) do
    if type(c) ~= "table" then fail(string.format("vib.list: point %d is a %s; each point is a table { key = value, ... }", i, type(c))) end
    local copy = {}
    for k, v in pairs(c) do
      if type(k) ~= "string" then fail(string.format("vib.list: point %d: every value is named (beta = 1e-3)", i)) end
      check_value_type("vib.list", k, v)
      copy[k] = v
    end
    combos[i] = copy
  end
  return sweep(user_where() or source_where("list"), function() return combos end)
end

function vib.zip(t)
  if type(t) ~= "table" then fail("vib.zip expects a table of equally long lists, e.g. vib.zip { beta = { 1, 2 }, lr = { 3, 4 } }") end
  local n, first
  for _, k in ipairs(sorted_keys(t)) do
    local v = t[k]
    if type(k) ~= "string" or type(v) ~= "table" then fail("vib.zip: every entry is a named list (beta = { ... })") end
    if #v == 0 then fail(string.format("vib.zip: '%s' has no values; give at least one", k)) end
    if n and #v ~= n then fail(string.format("vib.zip: '%s' has %d values but '%s' has %d; zipped lists have equal lengths", k, #v, first, n)) end
    n, first = n or #v, first or k
    for _, x in ipairs(v) do check_value_type("vib.zip", k, x) end
  end
  if not n then fail("vib.zip: no lists given") end
  local combos = {}
  for i = 1, n do
    local c = {}
    for k, v in pairs(t) do c[k] = v[i] end
    combos[i] = c
  end
  return sweep(user_where() or source_where("zip"), function() return combos end)
end

-- Distributions for vib.random.
local function dist(kind, a, b, fn)
  if type(a) ~= "number" or type(b) ~= "number" or not (a <= b) then
    fail(string.format("%s(a, b): two numbers a <= b", fn))
  end
  return { [TAG] = "dist", kind = kind, a = a, b = b }
end
function vib.uniform(a, b) return dist("uniform", a, b, "vib.uniform") end
function vib.loguniform(a, b)
  local d = dist("loguniform", a, b, "vib.loguniform")
  if a <= 0 then fail("vib.loguniform(a, b): a and b must be > 0, e.g. vib.loguniform(1e-6, 1)") end
  return d
end
function vib.randint(a, b)
  if not (is_int(a) and is_int(b) and a <= b) then fail("vib.randint(a, b): two integers a <= b") end
  return { [TAG] = "dist", kind = "randint", a = math.tointeger(a), b = math.tointeger(b) }
end
function vib.choice(t)
  if type(t) ~= "table" or #t == 0 then fail("vib.choice expects a non-empty list of values, e.g. vib.choice { 64, 128 }") end
  for _, x in ipairs(t) do check_value_type("vib.choice", "value", x) end
  return { [TAG] = "dist", kind = "choice", values = t }
end

-- splitmix64 (Steele et al.): the sampler of vib.random, independent of math.random.
local function splitmix(state)
  state = state + 0x9E3779B97F4A7C15
  local z = state
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  return state, z ~ (z >> 31)
end

-- n points drawn from the given distributions (keys drawn in sorted order, point after point),
-- from vib.random's own seed: the same declaration gives the same points.
function vib.random(t)
  if type(t) ~= "table" then fail("vib.random expects a table, e.g. vib.random { n = 20, beta = vib.loguniform(1e-6, 1) }") end
  local where = user_where() or source_where("random")
  local n, seed = t.n, t.seed or 1
  if not is_int(n) or n < 1 then fail("vib.random: 'n' (the number of points) must be an integer >= 1") end
  if not is_int(seed) then fail("vib.random: 'seed' (the sampler's seed) must be an integer") end
  local keys = {}
  for _, k in ipairs(sorted_keys(t)) do
    if k ~= "n" and k ~= "seed" then
      if type(k) ~= "string" then fail("vib.random: every entry is named (beta = vib.loguniform(...))") end
      local v = t[k]
      if type(v) == "table" and vib.kind(v) ~= "dist" then
        fail(string.format("vib.random: '%s' must be a distribution (vib.uniform, vib.loguniform, vib.randint, vib.choice) or a constant", k))
      end
      if type(v) ~= "table" then check_value_type("vib.random", k, v) end
      keys[#keys + 1] = k
    end
  end
  if #keys == 0 then fail("vib.random: no parameter to draw; add e.g. beta = vib.loguniform(1e-6, 1)") end
  local state = math.tointeger(seed)
  local combos = {}
  for i = 1, n do
    local c = {}
    for _, k in ipairs(keys) do
      local d = t[k]
      if vib.kind(d) == "dist" then
        local z
        state, z = splitmix(state)
        local u = (z >> 11) * 2.0^-53
        if d.kind == "uniform" then c[k] = d.a + u * (d.b - d.a)
        elseif d.kind == "loguniform" then c[k] = math.exp(math.log(d.a) + u * (math.log(d.b) - math.log(d.a)))
        elseif d.kind == "randint" then c[k] = d.a + math.tointeger(math.floor(u * (d.b - d.a + 1)))
        else c[k] = d.values[1 + math.floor(u * #d.values)] end
      else
        c[k] = d
      end
    end
    combos[i] = c
  end
  return sweep(where, function() return combos end)
end
core.sweep = sweep
