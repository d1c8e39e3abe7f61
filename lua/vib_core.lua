-- vib_core.lua: what every part of the DSL checks with: the user's line, named fields and their
-- types, "did you mean" for keys and constructors. Loaded by vib.lua, which hands over the `vib`
-- table and debug.getinfo; returns the helpers the other vib_*.lua modules share.

local vib, getinfo = ...
local TAG = "__vib"            -- what a constructor made: "layer", "seq", "data", ...

-- ---- checking -------------------------------------------------------------------------------

-- The position of the first frame outside the DSL's files (chunks "=vib", "=vib_*"): the user's
-- line, or nil when there is none (a constructor reached through `return vib.experiment { ... }`,
-- a tail call, runs after the script's frame is gone).
local function user_where()
  for level = 2, 50 do
    local info = getinfo(level, "Sl")
    if not info then break end
    if info.source:sub(1, 4) ~= "=vib" and info.what ~= "C" and info.currentline >= 0 then
      -- the chunk name "@path" in full: short_src cuts long paths to 60 characters
      local src = info.source:sub(1, 1) == "@" and info.source:sub(2) or info.short_src
      return src .. ":" .. info.currentline
    end
  end
  return nil
end

-- The function of the script that the DSL is calling (a model, objective, data, optim or measure
-- function of p, a derived param): a constructor it calls in tail position (`return vib.obj.uib {
-- ... }`) runs with none of its frames left, so its own lines say where (core.call_user).
local callee

-- Without a frame, the script's text tells the line: the constructor's name, then the key; within
-- the lines of the function being called, when there is one.
local function source_where(fn, key)
  local src, path = vib._source, vib._script
  local first, last = 1, math.huge
  if callee then
    local info = getinfo(callee, "S")
    local file = info.source:sub(1, 1) == "@" and info.source:sub(2) or info.short_src
    if file ~= path then return file .. ":" .. info.linedefined end   -- a module beside the script
    first, last = info.linedefined, info.lastlinedefined
  end
  if not src then return path or "?" end
  local word = fn:match("([%w_]+)$")
  local n, start = 0, nil
  for line in (src .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    if n > last then break end
    if n < first then goto continue end
    if not start and (line:find("%f[%w_]" .. word .. "%s*[{(]") or line:find("%f[%w_]" .. word .. "%s*=%s*[{(]")
                      or line:find("%f[%w_]" .. word .. "%s*=%s*function%f[^%w_]")) then
      start = n
      if not key then break end
    end
    if start and key and line:find("%f[%w_]" .. key .. "%f[^%w_]%s*=") then return path .. ":" .. n end
    ::continue::
  end
  return path .. ":" .. (start or first)
end

-- The name in `known` nearest to `word`: the fewest edits (case aside) when at most 2, else one that
-- begins with word or that word begins with, at least 3 letters shared (vib.gaussian: vib.gauss;
-- vib.data.fashion: vib.data.fashion_mnist); nil when none is that near.
local function nearest(word, known)
  local best, bestd = nil, 3
  local w = word:lower()
  for _, cand in ipairs(known) do
    local c = cand:lower()
    local prev = {}
    for j = 0, #c do prev[j] = j end
    for i = 1, #w do
      local cur = { [0] = i }
      for j = 1, #c do
        local cost = w:sub(i, i) == c:sub(j, j) and 0 or 1
        cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      end
      prev = cur
    end
    local d = prev[#c]
    if d > 2 and math.min(#w, #c) >= 3 and (c:sub(1, #w) == w or w:sub(1, #c) == c) then d = 2.5 end
    if d < bestd then best, bestd = cand, d end
  end
  return best
end

-- The keys of t that keep accepts (all when keep is nil), sorted and joined with ", ", and
-- " (did you mean <prefix><key>?)" when one is at most 2 edits from k, else "".
local function known_keys(k, t, prefix, keep)
  local known = {}
  for key in pairs(t) do
    if not keep or keep(key) then known[#known + 1] = tostring(key) end
  end
  table.sort(known)
  local near = type(k) == "string" and nearest(k, known)
  return table.concat(known, ", "), near and string.format(" (did you mean %s%s?)", prefix, near) or ""
end

-- The constructor and key being checked: where an error points when no frame of the script is left.
-- last_fn: the constructor fields() checked last, which a check after its fields is part of.
local current_fn, current_key, last_fn
local function fail(msg)
  local w = user_where() or source_where(current_fn or (callee and last_fn) or "experiment", current_key)
  error(w .. ": " .. msg, 0)
end
-- fail, pointing at key `key` of constructor `fn` when the script's frame is gone.
local function fail_at(fn, key, msg)
  current_fn, current_key = fn, key
  fail(msg)
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end

local function is_int(v) return math.type(v) == "integer" or (type(v) == "number" and v == math.floor(v) and v == v and math.abs(v) < 2^53) end

-- type names: "int", "int2" (an integer or two), "number", "string", "bool", "function", "table", "any",
-- "enum:a|b|c", "list:number"; a trailing "?" means optional.
local function check_value(fn, key, ty, v)
  local base = ty:gsub("%?$", "")
  local ok
  if base == "int" then ok = is_int(v)
  elseif base == "number" then ok = type(v) == "number"
  elseif base == "string" then ok = type(v) == "string"
  elseif base == "bool" then ok = type(v) == "boolean"
  elseif base == "function" then ok = type(v) == "function"
  elseif base == "table" then ok = type(v) == "table"
  elseif base == "any" then ok = true
  elseif base == "int2" then      -- an integer, or two: { rows, columns } (kernel sizes, strides)
    ok = is_int(v) or (type(v) == "table" and #v == 2 and is_int(v[1]) and is_int(v[2]))
    if not ok then
      fail(string.format("%s: '%s' must be an integer or two, { rows, columns }, got %s", fn, key,
                         type(v) == "number" and tostring(v) or type(v)))
    end
  elseif base:sub(1, 5) == "enum:" then
    local choices = base:sub(6)
    if type(v) ~= "string" then
      fail(string.format("%s: '%s' must be one of %s, got %s", fn, key, choices:gsub("|", ", "), type(v)))
    end
    local names = {}
    for c in choices:gmatch("[^|]+") do
      if c == v then return end
      names[#names + 1] = c
    end
    local near = nearest(v, names)
    fail(string.format("%s: '%s' = \"%s\" is not one of %s%s", fn, key, v, table.concat(names, ", "),
                       near and string.format(" (did you mean \"%s\"?)", near) or ""))
  elseif base:sub(1, 5) == "list:" then
    ok = type(v) == "table"
    if ok then for _, x in ipairs(v) do check_value(fn, key .. "[]", base:sub(6), x) end end
  else error("vib.lua: bad type spec " .. ty) end
  if not ok then
    local what = base == "int" and "an integer" or (base:match("^[aeiou]") and "an " or "a ") .. base
    fail(string.format("%s: '%s' must be %s, got %s", fn, key, what,
                       type(v) == "number" and tostring(v) or type(v)))
  end
end

-- The longest name a layer, term, plot or experiment may have: the C side builds parameter names
-- such as "<layer>.rho.weight" and "<term>.prior.logscale" in 64 bytes.
local NAME_MAX = 40

-- Checks named fields `t` of constructor `fn` against `spec` ({key = type}); returns a copy with
-- the declaring line in `where`.
local function fields(fn, t, spec, tag)
  if type(t) ~= "table" then
    fail(string.format("%s expects a table of named fields, e.g. %s { ... }, got %s", fn, fn, type(t)))
  end
  current_fn, current_key, last_fn = fn, nil, fn
  local out = { [TAG] = tag, where = user_where() or source_where(fn) }
  for _, k in ipairs(sorted_keys(t)) do
    local v = t[k]
    current_key = type(k) == "string" and k or nil
    if type(k) ~= "string" then
      fail(string.format("%s: unexpected positional value %s; every field is named (key = value)", fn, tostring(v)))
    end
    local ty = spec[k]
    if not ty then
      local known, hint = known_keys(k, spec, "")
      fail(string.format("%s: unknown key '%s'; known keys: %s%s", fn, k, known, hint))
    end
    check_value(fn, k, ty, v)
    if k == "name" and #v > NAME_MAX then
      fail(string.format("%s: name '%s' is %d characters; use at most %d (names become parameter names, "
                         .. "CSV columns and directories)", fn, v, #v, NAME_MAX))
    end
    out[k] = v
  end
  for _, k in ipairs(sorted_keys(spec)) do
    if out[k] == nil and not spec[k]:match("%?$") then
      current_key = nil
      fail(string.format("%s: missing required key '%s'", fn, k))
    end
  end
  current_fn, current_key = nil, nil
  return out
end

function vib.kind(v) return type(v) == "table" and rawget(v, TAG) or nil end

-- vib.one_of(p.act, { "tanh", "relu" }): the value when it is one of the list, else an error at the
-- caller's line naming the choices; for string params that select code (a --set act=sigmoid would
-- otherwise fall through to a default branch silently).
function vib.one_of(v, choices)
  if type(choices) ~= "table" or #choices == 0 then
    fail("vib.one_of(value, choices): choices is a non-empty list, e.g. vib.one_of(p.act, { \"tanh\", \"relu\" })")
  end
  for _, c in ipairs(choices) do
    if v == c then return v end
  end
  local names = {}
  for i, c in ipairs(choices) do names[i] = string.format("%q", c) end
  fail(string.format("%s is not one of %s", type(v) == "string" and string.format("%q", v) or tostring(v),
                     table.concat(names, ", ")))
end

-- Copies of base with the keys of extra added.
local function with(base, extra)
  local s = {}
  for k, v in pairs(base) do s[k] = v end
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

-- A read-only view of a point that records which keys are read (into `reads`). With `strict`,
-- reading a key the point does not have (p.wdd for p.wd) is an error at the reading line.
local function tracked(p, reads, strict)
  return setmetatable({}, {
    __index = function(_, k)
      reads[k] = true
      local v = p[k]
      if v == nil and strict then
        local known, hint = known_keys(k, p, "p.")
        fail(string.format("p.%s: the experiment has no param '%s'%s; declare it in params, or use one of: %s",
                           tostring(k), tostring(k), hint, known))
      end
      return v
    end,
    __newindex = function(_, k, v) p[k] = v end,
    __pairs = function() for k in pairs(p) do reads[k] = true end; return next, p, nil end,
    __len = function() return #p end,
  })
end

local function check_value_type(fn, key, v)
  local ty = type(v)
  if ty ~= "number" and ty ~= "string" and ty ~= "boolean" and ty ~= "function" then
    fail(string.format("%s: '%s' has a %s value; sweep values are numbers, strings, booleans or functions of the point (derived)",
                       fn, key, ty))
  end
end

-- Calls the script's function fn(...) with its lines as the place of errors without a frame.
local function call_user(fn, ...)
  local outer = callee
  callee, last_fn = fn, nil
  local v = fn(...)
  callee = outer
  return v
end

return {
  call_user = call_user, TAG = TAG, user_where = user_where, source_where = source_where, known_keys = known_keys, fail = fail,
  fail_at = fail_at, sorted_keys = sorted_keys, is_int = is_int, check_value = check_value, fields = fields,
  with = with, tracked = tracked, check_value_type = check_value_type, getinfo = getinfo,
}
