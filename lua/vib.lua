-- vib.lua: the experiment DSL. Embedded in the vibrun binary and returned by `require "vib"`.
--
-- Every constructor takes one table of named fields, rejects unknown keys and wrong types at the
-- caller's line, and records that line ("x.lua:14") so that errors found later (shape inference
-- at model build, an unknown layer name in an objective, a NaN loss) still point at the script.
-- Lua declares; C executes: these functions only build plain tables that vibrun turns into C
-- specs. Nothing here runs during training.

local getinfo = ...            -- debug.getinfo, handed over by lb_state.c before `debug` is removed

local vib = {}
local TAG = "__vib"            -- what a constructor made: "layer", "seq", "data", ...

-- ---- checking -------------------------------------------------------------------------------

-- The position of the first frame outside this file: the user's line, or nil when there is
-- none (a constructor reached through `return vib.experiment { ... }`, a tail call, runs after
-- the script's frame is gone).
local function user_where()
  for level = 2, 50 do
    local info = getinfo(level, "Sl")
    if not info then break end
    if info.source ~= "=vib" and info.what ~= "C" and info.currentline >= 0 then
      -- the chunk name "@path" in full: short_src cuts long paths to 60 characters
      local src = info.source:sub(1, 1) == "@" and info.source:sub(2) or info.short_src
      return src .. ":" .. info.currentline
    end
  end
  return nil
end

-- Without a frame, the script's text tells the line: the constructor's name, then the key.
local function source_where(fn, key)
  local src, path = vib._source, vib._script
  if not src then return path or "?" end
  local word = fn:match("([%w_]+)$")
  local n, start = 0, nil
  for line in (src .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    if not start and (line:find("%f[%w_]" .. word .. "%s*[{(]") or line:find("%f[%w_]" .. word .. "%s*=%s*[{(]")
                      or line:find("%f[%w_]" .. word .. "%s*=%s*function%f[^%w_]")) then
      start = n
      if not key then break end
    end
    if start and key and line:find("%f[%w_]" .. key .. "%f[^%w_]%s*=") then return path .. ":" .. n end
  end
  return path .. ":" .. (start or 1)
end

-- The name in `known` nearest to `word` by edit distance, when at most 2 edits away.
local function nearest(word, known)
  local best, bestd = nil, 3
  for _, cand in ipairs(known) do
    local prev = {}
    for j = 0, #cand do prev[j] = j end
    for i = 1, #word do
      local cur = { [0] = i }
      for j = 1, #cand do
        local cost = word:sub(i, i) == cand:sub(j, j) and 0 or 1
        cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      end
      prev = cur
    end
    if prev[#cand] < bestd then best, bestd = cand, prev[#cand] end
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

local current_fn, current_key
local function fail(msg)
  local w = user_where() or source_where(current_fn or "experiment", current_key)
  error(w .. ": " .. msg, 0)
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end

local function is_int(v) return math.type(v) == "integer" or (type(v) == "number" and v == math.floor(v) and v == v and math.abs(v) < 2^53) end

-- type names: "int", "number", "string", "bool", "function", "table", "any",
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
  elseif base:sub(1, 5) == "enum:" then
    local choices = base:sub(6)
    if type(v) ~= "string" then
      fail(string.format("%s: '%s' must be one of %s, got %s", fn, key, choices:gsub("|", ", "), type(v)))
    end
    for c in choices:gmatch("[^|]+") do if c == v then return end end
    fail(string.format("%s: '%s' = \"%s\" is not one of %s", fn, key, v, choices:gsub("|", ", ")))
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
  current_fn, current_key = fn, nil
  local out = { [TAG] = tag, where = user_where() or source_where(fn) }
  for _, k in ipairs(sorted_keys(t)) do
    local v = t[k]
    current_key = type(k) == "string" and k or nil
    if type(k) ~= "string" then
      fail(string.format("%s: unexpected positional value %s; every field is named (key = value)", fn, tostring(v)))
    end
    local ty = spec[k]
    if not ty then
      local known = sorted_keys(spec)
      fail(string.format("%s: unknown key '%s'; known keys: %s", fn, k, table.concat(known, ", ")))
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

-- ---- layers ---------------------------------------------------------------------------------

local counters = {}
local function layer(kind, spec)
  spec.name = "string?"
  return function(t)
    local l = fields("vib." .. kind, t or {}, spec, "layer")
    l.kind = kind
    return l
  end
end

vib.linear = layer("linear", { out = "int", ["in"] = "int?", bias = "bool?",
                               init = "enum:default|glorot|he|normal?", std = "number?" })
vib.relu = layer("relu", {})
vib.tanh = layer("tanh", {})
vib.sigmoid = layer("sigmoid", {})
vib.softplus = layer("softplus", {})
vib.dropout = layer("dropout", { p = "number" })
-- The stochastic Gaussian encoder p(z|x) = N(mu(x), diag sigma(x)^2): mean and scale heads on its
-- input, sigma = softplus(rho + shift) (or exp), z = mu + sigma * eps with `samples` draws per input.
-- sigma = "unit" drops the scale head (sigma = 1: the encoder of variational CEB).
-- cov = "full": Cov = L L^T, L lower-triangular with a positive diagonal (small k, as VIB's k = 2).
vib.gauss = layer("gauss", { k = "int", sigma = "enum:softplus|exp|unit?", shift = "number?", samples = "int?",
                             cov = "enum:diag|full?",
                             init = "enum:default|glorot|he|normal?", std = "number?" })
-- Binary stochastic neurons p = sigmoid(W x + b), z ~ Bern(p), `particles` draws per incoming
-- particle (nested, as the IMB code); gradient "st" (straight-through, Raiko et al.) or
-- "concrete" (binary Concrete at `temperature`); evaluation uses eval_samples particles, or the
-- mean-field network p when eval_samples = 0.
vib.bern = layer("bern", { units = "int", particles = "int?", grad = "enum:st|concrete?", temperature = "number?",
                           init = "enum:default|glorot|he|normal?", std = "number?" })
-- Additive Gaussian noise z = x + std * eps in training; std defaults to zero-entropy noise
-- (2 pi e)^-1/2, whose differential entropy is 0 (Kirsch et al.).
vib.noise = layer("noise", { std = "number?" })

function vib.seq(t)
  if type(t) ~= "table" then fail("vib.seq expects a list of layers, e.g. vib.seq { vib.linear { out = 10 } }") end
  local s = { [TAG] = "seq", where = user_where() }
  for k, v in pairs(t) do
    if not is_int(k) then fail(string.format("vib.seq: unexpected key '%s'; vib.seq takes a list of layers", tostring(k))) end
  end
  for i, l in ipairs(t) do
    local kind = vib.kind(l)
    if kind == "seq" then
      for _, inner in ipairs(l) do s[#s + 1] = inner end
    elseif kind == "layer" then
      s[#s + 1] = l
    else
      fail(string.format("vib.seq: element %d is not a layer (got %s); use vib.linear{...}, vib.relu{}, ...", i,
                         kind or type(l)))
    end
  end
  if #s == 0 then fail("vib.seq: the model has no layers") end
  return s
end

-- ---- objectives -----------------------------------------------------------------------------

-- Terms are values of an expression language: `ce + beta * kl`, `ce + beta * kl^2`,
-- vib.exp(kl), vib.log(x), vib.sqrt(x) compose an objective whose gradient comes from the tape.
local EXPR = {}
local function as_expr(v, where)
  if type(v) == "number" then return { [TAG] = "expr", op = "const", value = v } end
  local k = vib.kind(v)
  if k == "term" or k == "expr" then return v end
  error(string.format("%s: an objective expression combines terms (vib.term.*) and numbers, got %s",
                      where or user_where() or "?", k or type(v)), 0)
end
local function node(op, a, b)
  local n = { [TAG] = "expr", op = op, as_expr(a), b ~= nil and as_expr(b) or nil }
  return setmetatable(n, EXPR)
end
EXPR.__add = function(a, b) return node("add", a, b) end
EXPR.__sub = function(a, b) return node("sub", a, b) end
EXPR.__mul = function(a, b) return node("mul", a, b) end
EXPR.__div = function(a, b) return node("div", a, b) end
EXPR.__unm = function(a) return node("neg", a) end
EXPR.__pow = function(a, b)
  if b == 2 then return node("square", a) elseif b == 0.5 then return node("sqrt", a) end
  fail("objective expressions raise to the power 2 or 0.5 only (x^2, x^0.5)")
end
function vib.log(x) return node("log", x) end
function vib.exp(x) return node("exp", x) end
function vib.sqrt(x) return node("sqrt", x) end
function vib.square(x) return node("square", x) end

vib.term = {}
local term_common = { weight = "number?", name = "string?", layer = "string?",
                      schedule = "enum:const|linear|log?", schedule_epochs = "number?", schedule_from = "number?" }
local function term(kind, extra, check)
  return function(t)
    local spec = {}
    for k, v in pairs(term_common) do spec[k] = v end
    for k, v in pairs(extra) do spec[k] = v end
    local x = fields("vib.term." .. kind, t or {}, spec, "term")
    x.kind = kind
    if x.weight and x.weight < 0 then fail(string.format("vib.term.%s: weight=%g must be >= 0", kind, x.weight)) end
    if check then check(x) end
    return setmetatable(x, EXPR)
  end
end
-- -log q(y|output); average = "input" (all particles: the prediction CE, the SNN likelihood) or a
-- layer name (the particles drawn after it: IMB's relevance VCR_l).
vib.term.ce = term("ce", { smoothing = "number?", average = "string?" })
-- The rate KL(p(z|x) || r(z)) of a vib.gauss layer (closed form; mc = single-sample Monte Carlo;
-- components = a learned mixture-of-Gaussians r), or of a vib.bern layer against a learned prior.
vib.term.kl = term("kl", { mc = "bool?", components = "int?" }, function(x)
  if not x.layer then fail("vib.term.kl: missing required key 'layer' (the stochastic layer it reads)") end
end)
-- Upper bounds on H[Z] (per_class: H[Z|Y]) from batch variances, and the looser L2 one (per_class:
-- from the class-centred traces, one value per batch).
vib.term.logvar = term("logvar", { per_class = "bool?" })
vib.term.l2 = term("l2", { per_class = "bool?" })
-- Residual information of variational CEB, log e(z|x) - log b(z|y), b(z|y) = N(A onehot(y), I).
vib.term.ceb = term("ceb", {})
-- Pairwise-KDE upper bound on I(X;Z) over the batch (nonlinear IB); reads a vib.noise layer.
vib.term.kde = term("kde", { var = "number?" })
-- -H(p(y|x)): the confidence penalty.
vib.term.confidence = term("confidence", {})
-- -log p(x | decoder output): the likelihood of beta-VAE.
vib.term.recon = term("recon", { likelihood = "enum:bernoulli|gaussian?" })

vib.obj = {}
local function objective(where, ...)
  local o = { [TAG] = "objective", where = where }
  for _, t in ipairs({ ... }) do o[#o + 1] = t end
  return o
end
local function mk(kind, where, fields_)
  local t = { [TAG] = "term", kind = kind, where = where }
  for k, v in pairs(fields_) do t[k] = v end
  return setmetatable(t, EXPR)
end
local sched_keys = { schedule = "enum:const|linear|log?", schedule_epochs = "number?", schedule_from = "number?" }
local function with(base, extra)
  local s = {}
  for k, v in pairs(base) do s[k] = v end
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end
-- beta * h(r) for the convex IB Lagrangians: h = "linear" (the IB), "square", "exp". The weight
-- (and its schedule) multiplies h(r) from outside: a schedule anneals towards beta * h(r).
local function compress(ce, rate, beta, h, where)
  rate.weight = beta
  if h and h ~= "linear" then rate.h = h end
  return objective(where, ce, rate)
end

-- Deep VIB (Alemi et al.): CE(y, decoder(z)) + beta * KL(p(z|x) || r(z)), z from layer `layer`.
function vib.obj.vib(t)
  local x = fields("vib.obj.vib", t or {}, with(sched_keys, { beta = "number", layer = "string?", smoothing = "number?",
                   mc = "bool?", components = "int?", h = "enum:linear|square|exp?" }), "term")
  if x.beta < 0 then fail(string.format("vib.obj.vib: beta=%g must be >= 0", x.beta)) end
  local ce = mk("ce", x.where, { smoothing = x.smoothing })
  local kl = mk("kl", x.where, { layer = x.layer or "z", mc = x.mc, components = x.components, schedule = x.schedule,
                                 schedule_epochs = x.schedule_epochs, schedule_from = x.schedule_from })
  return compress(ce, kl, x.beta, x.h, x.where)
end
-- The sum of terms, each with its weight.
function vib.obj.sum(t)
  if type(t) ~= "table" or #t == 0 then fail("vib.obj.sum expects a list of terms, e.g. vib.obj.sum { vib.term.ce {} }") end
  local o = { [TAG] = "objective", where = user_where() }
  for i, term_ in ipairs(t) do
    if vib.kind(term_) ~= "term" then fail(string.format("vib.obj.sum: element %d is not a term (vib.term.*)", i)) end
    o[#o + 1] = term_
  end
  return o
end
-- Cross-entropy alone: maximum likelihood (with optional label smoothing).
function vib.obj.ce(t)
  local x = fields("vib.obj.ce", t or {}, { smoothing = "number?" }, "term")
  return objective(x.where, mk("ce", x.where, { smoothing = x.smoothing }))
end
-- The confidence penalty (Pereyra et al.): CE - beta H(p(y|x)).
function vib.obj.confidence(t)
  local x = fields("vib.obj.confidence", t or {}, { beta = "number" }, "term")
  if x.beta < 0 then fail(string.format("vib.obj.confidence: beta=%g must be >= 0", x.beta)) end
  return objective(x.where, mk("ce", x.where, {}), mk("confidence", x.where, { weight = x.beta }))
end
-- The Unpacking-IB surrogates (Kirsch et al.), with zero-entropy noise on z (a vib.noise layer):
--   ib:  H[Y|Z] + 1/(beta-1) H[Z|Y]   (beta > 1; the same terms as ceb at gamma = beta - 1)
--   ceb: H[Y|Z] + 1/gamma H[Z|Y]
--   dib: H[Y|Z] + 1/beta H[Z]
-- bound = "logvar" (batch log-variances) or "l2" (for H[Z|Y]: class-centred traces); relevance =
-- "decoder" (H_theta[Y|Z]) or "prediction" (H_theta[Y|X], the cross-entropy of the prediction
-- averaged over particles; refused when the model has no vib.gauss or vib.bern layer).
function vib.obj.uib(t)
  local x = fields("vib.obj.uib", t or {}, { kind = "enum:ib|dib|ceb", beta = "number?", gamma = "number?",
                   layer = "string?", bound = "enum:logvar|l2?", relevance = "enum:decoder|prediction?" }, "term")
  local w
  if x.kind == "ceb" then
    if not x.gamma or x.gamma <= 0 then fail("vib.obj.uib: kind = \"ceb\" needs gamma > 0") end
    if x.beta then fail("vib.obj.uib: kind = \"ceb\" takes gamma, not beta") end
    w = 1 / x.gamma
  else
    if x.gamma then fail(string.format("vib.obj.uib: kind = \"%s\" takes beta, not gamma", x.kind)) end
    if not x.beta then fail(string.format("vib.obj.uib: kind = \"%s\" needs beta", x.kind)) end
    if x.kind == "ib" and x.beta <= 1 then
      fail(string.format("vib.obj.uib: beta=%g; the IB Lagrangian needs beta > 1 (beta <= 1 is minimized by a Z that ignores X)", x.beta))
    end
    if x.kind == "dib" and x.beta <= 0 then fail(string.format("vib.obj.uib: beta=%g must be > 0", x.beta)) end
    w = x.kind == "ib" and 1 / (x.beta - 1) or 1 / x.beta
  end
  local ce = mk("ce", x.where, { average = x.relevance == "prediction" and "input" or nil })
  local layer_ = x.layer or "z"
  -- ib and ceb bound H[Z|Y] (class-conditional), dib H[Z].
  local h = mk(x.bound == "l2" and "l2" or "logvar", x.where, { layer = layer_, weight = w, per_class = x.kind ~= "dib",
                                                         name = x.kind == "dib" and "hz" or "hz_y" })
  return objective(x.where, ce, h)
end
-- Variational CEB (Fischer 2020): CE + 1/gamma (log e(z|x) - log b(z|y)), z from a vib.gauss layer.
function vib.obj.ceb(t)
  local x = fields("vib.obj.ceb", t or {}, { gamma = "number", layer = "string?" }, "term")
  if x.gamma <= 0 then fail(string.format("vib.obj.ceb: gamma=%g must be > 0", x.gamma)) end
  return objective(x.where, mk("ce", x.where, {}), mk("ceb", x.where, { layer = x.layer or "z", weight = 1 / x.gamma }))
end
-- Nonlinear IB (Kolchinsky et al.): CE + beta h(I_KDE(X;Z)), Z = f(X) + noise (a vib.noise layer).
function vib.obj.nlib(t)
  local x = fields("vib.obj.nlib", t or {}, { beta = "number", layer = "string?", var = "number?",
                   h = "enum:linear|square|exp?" }, "term")
  if x.beta < 0 then fail(string.format("vib.obj.nlib: beta=%g must be >= 0", x.beta)) end
  return compress(mk("ce", x.where, {}), mk("kde", x.where, { layer = x.layer or "z", var = x.var }), x.beta, x.h, x.where)
end
-- Information multi-bottlenecks (Nguyen & Choi): sum_l gamma_l VCR_l + sum_l beta_l VC_l over the
-- listed Bernoulli layers; gammas[1] is gamma_0 (the whole network's likelihood), gammas[l+1] and
-- betas[l] belong to layers[l]. gammas = {1, 0, ...}, betas = 0 is the SNN's maximum likelihood.
function vib.obj.imb(t)
  local x = fields("vib.obj.imb", t or {}, { layers = "table", gammas = "list:number", betas = "list:number?" }, "term")
  local n = #x.layers
  if n == 0 then fail("vib.obj.imb: layers lists the stochastic layers, e.g. layers = { \"h1\", \"h2\" }") end
  if #x.gammas ~= n + 1 then
    fail(string.format("vib.obj.imb: gammas has %d values; give %d (gamma_0 for the input, then one per layer)", #x.gammas, n + 1))
  end
  local betas = x.betas or {}
  if #betas ~= 0 and #betas ~= n then fail(string.format("vib.obj.imb: betas has %d values; give %d (one per layer)", #betas, n)) end
  for i, g in ipairs(x.gammas) do if g < 0 then fail(string.format("vib.obj.imb: gammas[%d]=%g must be >= 0", i, g)) end end
  for i, b in ipairs(betas) do if b < 0 then fail(string.format("vib.obj.imb: betas[%d]=%g must be >= 0", i, b)) end end
  local o = objective(x.where, mk("ce", x.where, { name = "vcr0", average = "input", weight = x.gammas[1] }))
  for i, l in ipairs(x.layers) do
    if type(l) ~= "string" then fail(string.format("vib.obj.imb: layers[%d] must be a layer name", i)) end
    o[#o + 1] = mk("ce", x.where, { name = "vcr_" .. l, average = l, weight = x.gammas[i + 1] })
  end
  for i, l in ipairs(x.layers) do
    if (betas[i] or 0) > 0 then o[#o + 1] = mk("kl", x.where, { name = "vc_" .. l, layer = l, weight = betas[i] }) end
  end
  return o
end
-- beta-VAE: -log p(x | decoder(z)) + beta KL(p(z|x) || N(0, I)); unsupervised (error is not measured).
function vib.obj.beta_vae(t)
  local x = fields("vib.obj.beta_vae", t or {}, with(sched_keys, { beta = "number", layer = "string?",
                   likelihood = "enum:bernoulli|gaussian?" }), "term")
  if x.beta < 0 then fail(string.format("vib.obj.beta_vae: beta=%g must be >= 0", x.beta)) end
  return objective(x.where, mk("recon", x.where, { likelihood = x.likelihood }),
                   mk("kl", x.where, { layer = x.layer or "z", weight = x.beta, schedule = x.schedule,
                                       schedule_epochs = x.schedule_epochs, schedule_from = x.schedule_from }))
end

-- An expression over terms -> an objective: its distinct terms in order of appearance and the
-- postfix program over their batch means.
local function compile_expr(e, where)
  local o = { [TAG] = "objective", where = e.where or where, expr = {} }
  local index = {}
  local function emit(n)
    local k = vib.kind(n)
    if k == "term" then
      if not index[n] then
        o[#o + 1] = n
        index[n] = #o
      end
      o.expr[#o.expr + 1] = { op = "term", term = index[n] }
    elseif n.op == "const" then
      o.expr[#o.expr + 1] = { op = "const", value = n.value }
    else
      emit(n[1])
      if n[2] then emit(n[2]) end
      o.expr[#o.expr + 1] = { op = n.op }
    end
  end
  emit(e)
  -- Two terms of one kind need distinct names for their CSV columns.
  local seen = {}
  for _, t in ipairs(o) do
    local nm = t.name or t.kind
    if seen[nm] then
      error(string.format("%s: the objective uses two '%s' terms; give them names (vib.term.%s { name = ... })",
                          t.where or o.where, nm, t.kind), 0)
    end
    seen[nm] = true
  end
  return o
end

-- ---- optimizers -----------------------------------------------------------------------------

vib.optim = {}
local sched = { lr = "number?", weight_decay = "number?", clip = "number?",
                schedule = "enum:const|exp|step|cosine?", decay = "number?", decay_every = "number?",
                milestones = "list:int?", gamma = "number?", lr_min = "number?" }
local function optim(kind, extra)
  return function(t)
    local spec = {}
    for k, v in pairs(sched) do spec[k] = v end
    for k, v in pairs(extra) do spec[k] = v end
    local o = fields("vib.optim." .. kind, t or {}, spec, "optim")
    o.kind = kind
    if o.schedule == nil and o.decay ~= nil then o.schedule = "exp" end
    return o
  end
end
vib.optim.sgd = optim("sgd", { momentum = "number?", nesterov = "bool?" })
vib.optim.adam = optim("adam", { beta1 = "number?", beta2 = "number?", eps = "number?" })
vib.optim.adamw = optim("adamw", { beta1 = "number?", beta2 = "number?", eps = "number?" })
vib.optim.adamax = optim("adamax", { beta1 = "number?", beta2 = "number?", eps = "number?" })

-- ---- data -----------------------------------------------------------------------------------

vib.data = {}
local common = { dir = "string?", scale = "enum:none|unit|pm1|standardize?", train_limit = "int?",
                 test_limit = "int?" }
local function dataset(name, extra)
  return function(t)
    local spec = {}
    for k, v in pairs(common) do spec[k] = v end
    for k, v in pairs(extra) do spec[k] = v end
    local d = fields("vib.data." .. name:gsub("-", "_"), t or {}, spec, "data")
    d.name = name
    return d
  end
end
vib.data.mnist = dataset("mnist", { resplit_test = "number?" })
vib.data.fashion_mnist = dataset("fashion-mnist", { resplit_test = "number?" })
vib.data.cifar10 = dataset("cifar10", { resplit_test = "number?" })
-- The Shwartz-Ziv & Tishby 12-bit task: 4,096 patterns, a seeded train/test shuffle (split_seed,
-- by default the point's seed; train_fraction 0.8 as the authors; shuffle = false takes the first
-- rows of the file, as the authors' code). Inputs are 0/1: scale "none".
vib.data.tishby = dataset("tishby", { train_fraction = "number?", split_seed = "int?", shuffle = "bool?" })
vib.data.csv = dataset("csv", { path = "string", test = "string?", label = "string?", holdout = "number?" })

-- ---- information-plane measurements ---------------------------------------------------------

local estimators = { "variational", "kde", "binning", "ksg", "plugin" }
local default_estimators = { "variational", "kde", "binning", "plugin" }

-- measure = { layers = "all" | {names}, estimators = "all" | {names}, every = "epoch" | "log2" |
-- k | {epochs}, split = "both" | "train" | "test" | {splits}, samples = N, kde_var, bins, range =
-- {lo, hi}, bin_size, k, plugin_samples, selfcheck = true }: what nn_measure.h computes, normalized
-- here. selfcheck writes selfcheck.csv: each estimator on known-MI tasks at the layers' sizes.
function vib.measure(t)
  if vib.kind(t) == "measure" then return t end
  local fn = "measure"
  local m = fields(fn, t or {}, { layers = "any?", estimators = "any?", every = "any?", split = "any?",
                                  samples = "int?", kde_var = "number?", bins = "int?", range = "list:number?",
                                  bin_size = "number?", k = "int?", plugin_samples = "int?",
                                  selfcheck = "bool?" }, "measure")
  local function bad(key, msg) current_fn, current_key = fn, key; fail(fn .. ": " .. msg) end
  local function names(key, v, all, known)
    if v == nil or v == "all" then return all end
    if type(v) == "string" then v = { v } end
    if type(v) ~= "table" or #v == 0 then bad(key, string.format("'%s' must be \"all\" or a list of names", key)) end
    local ok = {}
    for _, x in ipairs(known or {}) do ok[x] = true end
    for _, x in ipairs(v) do
      if type(x) ~= "string" then bad(key, string.format("'%s' lists names (strings), got %s", key, type(x))) end
      if known and not ok[x] then
        bad(key, string.format("unknown %s '%s'; known: %s", key == "split" and "split" or "estimator", x,
                               table.concat(known, ", ")))
      end
    end
    return v
  end
  local est = m.estimators == nil and default_estimators or names("estimators", m.estimators, estimators, estimators)
  m.layers = names("layers", m.layers, {})
  m.estimators_listed = type(m.estimators) == "table"   -- named one by one: each must apply somewhere
  m.estimators = est
  local split = m.split
  if split == nil or split == "both" then split = { "train", "test" } end
  m.split = names("split", split, nil, { "train", "test" })
  local every = m.every == nil and "epoch" or m.every
  m.every = nil
  if every == "epoch" or every == "log2" then m.every_kind = every
  elseif is_int(every) and every >= 1 then m.every_kind, m.every_k = "k", math.tointeger(every)
  elseif type(every) == "table" and #every > 0 then
    m.every_kind, m.epochs = "list", {}
    for i, e in ipairs(every) do
      if not is_int(e) or e < 0 then bad("every", string.format("every[%d] = %s: epochs are integers >= 0", i, tostring(e))) end
      m.epochs[i] = math.tointeger(e)
    end
  else
    bad("every", "'every' must be \"epoch\", \"log2\", a number of epochs k >= 1, or a list of epochs")
  end
  if m.samples and m.samples < 0 then bad("samples", "'samples' must be >= 0 (0 = every example)") end
  if m.kde_var and not (m.kde_var > 0) then bad("kde_var", "'kde_var' (the noise variance of deterministic layers) must be > 0") end
  if m.bins and m.bins < 1 then bad("bins", "'bins' must be >= 1") end
  if m.range and not (#m.range == 2 and m.range[1] < m.range[2]) then bad("range", "'range' must be { lo, hi } with lo < hi") end
  if m.bin_size and not (m.bin_size > 0) then bad("bin_size", "'bin_size' must be > 0") end
  if m.k and m.k < 1 then bad("k", "'k' (neighbours) must be >= 1") end
  if m.plugin_samples and m.plugin_samples < 1 then bad("plugin_samples", "'plugin_samples' must be >= 1") end
  return m
end

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

local function check_value_type(fn, key, v)
  local ty = type(v)
  if ty ~= "number" and ty ~= "string" and ty ~= "boolean" and ty ~= "function" then
    fail(string.format("%s: '%s' has a %s value; sweep values are numbers, strings, booleans or functions of the point (derived)",
                       fn, key, ty))
  end
end

-- vib.when(cond, values): a grid axis that applies only to the points where cond(p) holds; the
-- others keep the declared value. cond sees the declared params and the unconditional axes.
function vib.when(cond, values)
  if type(cond) ~= "function" or type(values) ~= "table" then
    fail("vib.when(cond, values): a function(p) returning true or false, and a list of values")
  end
  return { [TAG] = "when", cond = cond, values = values }
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

-- ---- the experiment -------------------------------------------------------------------------

local experiment_spec = {
  name = "string", data = "any", params = "table?", model = "any", objective = "any?",
  optim = "any?", ema = "number?", epochs = "int?", batch = "int?", eval_batch = "int?",
  train_eval_limit = "int?", seed = "int?", sweep = "table?", plots = "table?",
  eval_samples = "int?", eval_passes = "int?", eval_avg = "enum:probs|logits?", ema_mode = "enum:debias|plain|warmup?",
  checkpoint_every = "int?", description = "string?", measure = "any?", replicates = "int?",
  streams = "enum:common|independent?",
}
-- The top-level settings that --set may override as well as params.
local settable = { epochs = "int", batch = "int", eval_batch = "int", ema = "number", seed = "int",
                   train_eval_limit = "int", checkpoint_every = "int", eval_samples = "int", eval_passes = "int",
                   replicates = "int", streams = "string" }

function vib.experiment(t)
  local e = fields("vib.experiment", t, experiment_spec, "experiment")
  local function fail_at(key, msg) current_fn, current_key = "vib.experiment", key; fail(msg) end
  if not e.name:match("^[%w_%-%.]+$") then
    fail_at("name", "vib.experiment: name '" .. e.name .. "' may hold only letters, digits, '_', '-' and '.' (it names a directory)")
  end
  if type(e.data) ~= "function" and vib.kind(e.data) ~= "data" then
    fail_at("data", "vib.experiment: 'data' must be a data set, e.g. vib.data.fashion_mnist {}, or a function(p) returning one")
  end
  local mk = type(e.model) == "function" and "function" or vib.kind(e.model)
  if mk ~= "function" and mk ~= "seq" and mk ~= "layer" then
    fail_at("model", "vib.experiment: 'model' must be vib.seq { ... } or a function(p) returning one")
  end
  if e.optim and type(e.optim) ~= "function" and vib.kind(e.optim) ~= "optim" then
    fail_at("optim", "vib.experiment: 'optim' must be vib.optim.adam { ... } (or another vib.optim.*) or a function(p) returning one")
  end
  if e.measure ~= nil and type(e.measure) ~= "function" then
    if type(e.measure) ~= "table" then fail_at("measure", "vib.experiment: 'measure' must be a table { layers = ..., estimators = ..., every = ... } or a function(p) returning one") end
    e.measure = vib.measure(e.measure)
  end
  if e.sweep and vib.kind(e.sweep) ~= "sweep" then
    fail_at("sweep", "vib.experiment: 'sweep' must be vib.grid { ... }, vib.list, vib.zip, vib.random or a composition of them")
  end
  if e.replicates and e.replicates < 1 then fail_at("replicates", "vib.experiment: replicates must be >= 1") end
  e.param_where = {}
  for k, v in pairs(e.params or {}) do
    if type(k) ~= "string" then fail_at("params", "vib.experiment: params must be named (k = 256, beta = 1e-3)") end
    local ty = type(v)
    if ty ~= "number" and ty ~= "string" and ty ~= "boolean" and ty ~= "function" then
      fail_at(k, string.format("vib.experiment: param '%s' is a %s; params are numbers, strings, booleans or functions of the point (derived)", k, ty))
    end
    e.param_where[k] = source_where("experiment", k)
  end
  if e.plots then
    for i, p in ipairs(e.plots) do
      if vib.kind(p) ~= "plot" then fail_at("plots", string.format("vib.experiment: plots[%d] is not a plot (vib.plot.*)", i)) end
      if p.axis and e.params and e.params[p.axis] == nil then
        local known = sorted_keys(e.params)
        error(string.format("%s: vib.plot.%s: '%s' is not a param of the experiment; params: %s", p.where,
                            p.kind, p.axis, table.concat(known, ", ")), 0)
      end
    end
  end
  return e
end

-- ---- plots ----------------------------------------------------------------------------------

-- Figures drawn by gnuplot into runs/<exp>/plots/ at the end of a run, each with its .gp script
-- (README, "Figures"). Every plot takes name (the file name without extension), title, formats
-- ({"png", "svg", "pdf"}; default png and svg, or VIB_PLOT_FORMATS) and width, height (inches).
-- Without `plots`, a run draws the training curve and what its CSV allows; with `plots`, the
-- training curve and the declared figures.
vib.plot = {}
local plot_common = { name = "string?", title = "string?", formats = "list:enum:png|svg|pdf?",
                      width = "number?", height = "number?" }
local estimators = "enum:variational|kde_upper|kde_lower|binning|ksg|plugin"
local function plot(kind, extra, positional)
  return function(t)
    local fn = "vib.plot." .. kind
    if positional and type(t) == "table" and t[1] ~= nil then
      -- error_vs { "beta", ... }: the swept param first
      local copy = {}
      for k, v in pairs(t) do if k ~= 1 then copy[k] = v end end
      if copy[positional] ~= nil then current_fn, current_key = fn, positional; fail(fn .. ": the " .. positional .. " is given twice") end
      copy[positional] = t[1]
      t = copy
    end
    local p = fields(fn, t or {}, with(plot_common, extra), "plot")
    p.kind = kind
    current_fn = fn
    for _, k in ipairs({ "width", "height" }) do
      if p[k] and not (p[k] > 0 and p[k] <= 20) then current_key = k; fail(string.format("%s: %s=%g must be in (0, 20] inches", fn, k, p[k])) end
    end
    for _, k in ipairs({ "points", "ellipses" }) do
      if p[k] and p[k] < 0 then current_key = k; fail(string.format("%s: %s=%d must be >= 0", fn, k, p[k])) end
    end
    if p.name and not p.name:match("^[%w_%-%.=]+$") then
      current_key = "name"; fail(fn .. ": name '" .. p.name .. "' may hold only letters, digits and _ - . = (it names files)")
    end
    current_fn, current_key = nil, nil
    return p
  end
end
-- loss and error per epoch, train and test: the figure every run draws
vib.plot.training_curve = plot("training_curve", {})
-- I(Z;Y) against I(X;Z) per layer and epoch, one figure per point with an info.csv; filters
-- layers, estimators, splits; per_layer = true: one panel per layer (multi-bottleneck networks)
vib.plot.info_plane = plot("info_plane", { layers = "list:string?", estimators = "list:" .. estimators .. "?",
                                           splits = "list:enum:train|test?", per_layer = "bool?" })
-- final I(Z;Y) against I(X;Z) over a sweep (summary.csv), coloured by the swept param `axis`
vib.plot.ib_curve = plot("ib_curve", { axis = "string?", layer = "string?", estimator = estimators .. "?",
                                       splits = "list:enum:train|test?" })
-- error (and I(X;Z), I(Z;Y) unless info = false) against the swept param: vib.plot.error_vs { "beta" }
vib.plot.error_vs = plot("error_vs", { axis = "string?", layer = "string?", estimator = estimators .. "?",
                                       splits = "list:enum:train|test?", info = "bool?" }, "axis")
-- the 2-D latent of a K = 2 model: the first `points` test points, `ellipses` of them with their ellipse
vib.plot.latent = plot("latent", { points = "int?", ellipses = "int?" })

-- ---- resolution: --set overrides, sweep points, model and objective per point ----------------

-- Parses a --set value with the type of the value it replaces.
local function coerce(key, s, old, ty)
  ty = ty or type(old)
  if ty == "int" or math.type(old) == "integer" then
    local v = math.tointeger(tonumber(s))
    if v == nil then error(string.format("--set %s=%s: '%s' expects an integer", key, s, key), 0) end
    return v
  elseif ty == "number" then
    local v = tonumber(s)
    if v == nil then error(string.format("--set %s=%s: '%s' expects a number", key, s, key), 0) end
    return v
  elseif ty == "boolean" then
    if s == "true" then return true elseif s == "false" then return false end
    error(string.format("--set %s=%s: '%s' expects true or false", key, s, key), 0)
  elseif ty == "function" then          -- a derived param fixed from the command line
    if tonumber(s) ~= nil then return math.tointeger(tonumber(s)) or tonumber(s) end
    if s == "true" or s == "false" then return s == "true" end
  end
  return s
end

-- Keys that say where a value came from, not what it is: no part of a point's identity.
local PROVENANCE = { where = true, [TAG] = true, estimators_listed = true }

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
      local v = fns[k](view)
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
    local rep = sweep(e.where, function() local c = {}; for i, s in ipairs(seeds) do c[i] = { seed = s } end; return c end)
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
    if type(model) == "function" then model = model(view) end
    if vib.kind(model) == "layer" then model = vib.seq { model } end
    if vib.kind(model) ~= "seq" then
      error(string.format("%s: the model function must return vib.seq { ... }, got %s", e.where,
                          vib.kind(model) or type(model)), 0)
    end
    local obj = e.objective or vib.obj.ce {}
    if type(obj) == "function" then obj = obj(view) end
    if vib.kind(obj) == "term" then obj = vib.obj.sum { obj } end
    if vib.kind(obj) == "expr" then obj = compile_expr(obj, e.where) end
    if vib.kind(obj) ~= "objective" then
      error(string.format("%s: 'objective' must be vib.obj.*, an expression of vib.term.* (ce + beta * kl), or a function(p) returning one", e.where), 0)
    end
    local data = e.data
    if type(data) == "function" then data = data(view) end
    if vib.kind(data) ~= "data" then
      error(string.format("%s: the data function must return vib.data.*, got %s", e.where, vib.kind(data) or type(data)), 0)
    end
    local optim = e.optim or vib.optim.adam {}
    if type(optim) == "function" then optim = optim(view) end
    if vib.kind(optim) ~= "optim" then
      error(string.format("%s: the optim function must return vib.optim.*, got %s", e.where,
                          vib.kind(optim) or type(optim)), 0)
    end
    local measure = e.measure
    if type(measure) == "function" then measure = measure(view) end
    if measure ~= nil then measure = vib.measure(measure) end
    local seed = p.seed ~= nil and p.seed or settings.seed or 1
    if data.name == "tishby" and data.split_seed == nil and data.shuffle ~= false then
      -- the split follows the point's seed; a copy, so that points of other seeds get their own
      local d = {}
      for k, v in pairs(data) do d[k] = v end
      d.split_seed = seed
      data = d
    end
    local streams = top.streams or e.streams or "common"
    if streams ~= "common" and streams ~= "independent" then
      error(string.format("--set streams=%s: streams is \"common\" or \"independent\"", streams), 0)
    end
    local point = {
      name = e.name, params = p, model = model, objective = obj, data = data,
      optim = optim, epochs = settings.epochs or 10, batch = settings.batch or 100,
      eval_batch = settings.eval_batch or 1000, ema = settings.ema or 0,
      train_eval_limit = settings.train_eval_limit or 0, checkpoint_every = settings.checkpoint_every or 1,
      eval_samples = settings.eval_samples or 0, eval_passes = settings.eval_passes or 1,
      eval_avg = e.eval_avg or "probs", measure = measure,
      ema_mode = e.ema_mode or "debias",
      seed = seed, streams = streams,
      plots = e.plots,          -- the figures to draw at the end (not part of the point's identity)
    }
    -- What the point trains: its identity without its name and params.
    local ident = { model = model, objective = obj, data = data,
                    optim = point.optim, epochs = point.epochs, batch = point.batch, ema = point.ema,
                    seed = seed, train_eval_limit = point.train_eval_limit,
                    eval_samples = point.eval_samples, eval_avg = point.eval_avg,
                    eval_passes = point.eval_passes > 1 and point.eval_passes or nil,
                    ema_mode = point.ema > 0 and point.ema_mode or nil, measure = measure,
                    streams = streams ~= "common" and streams or nil }
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
  local code = (vib._source or ""):gsub("%-%-%[(=*)%[.-%]%1%]", ""):gsub("%-%-[^\n]*", "")
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

-- config.lua: the resolved point, replayable with `vibrun config.lua`.
function vib.point(t)
  local p = fields("vib.point", t, { script = "string", params = "table", settings = "table?" }, "point")
  return p
end

-- A misspelled constructor (vib.rleu, vib.optim.adma) is an error at its line that lists what
-- exists, instead of "attempt to call a nil value". Names starting with "_" are vibrun's own.
local function strict(t, name)
  return setmetatable(t, { __index = function(_, k)
    if type(k) == "string" and k:sub(1, 1) == "_" then return nil end
    local known, hint = known_keys(k, t, name .. ".",
                                   function(key) return type(key) == "string" and key:sub(1, 1) ~= "_" end)
    fail(string.format("%s.%s does not exist%s; %s has: %s", name, tostring(k), hint, name, known))
  end })
end
for _, sub in ipairs({ "term", "obj", "optim", "data", "plot" }) do strict(vib[sub], "vib." .. sub) end
strict(vib, "vib")

return vib
