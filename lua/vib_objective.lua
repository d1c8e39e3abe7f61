-- vib_objective.lua: objectives: the expression language over terms (vib.term.*, ce + beta * kl),
-- the named objectives of the papers (vib.obj.*) and their compilation to a postfix program.
-- Loaded by vib.lua.

local vib, core = ...
local TAG = core.TAG
local fail = core.fail
local fields = core.fields
local user_where = core.user_where
local with = core.with
local enum = core.enum

-- ---- objectives -----------------------------------------------------------------------------

-- Terms are values of an expression language: `ce + beta * kl`, `ce + beta * kl^2`,
-- vib.exp(kl), vib.log(x), vib.sqrt(x) compose an objective whose gradient comes from the tape.
local EXPR = {}
local function as_expr(v, where)
  if type(v) == "number" then return { [TAG] = "expr", op = "const", value = v } end
  local k = vib.kind(v)
  if k == "term" or k == "expr" then return v end
  if k == "tensor" then
    error(string.format("%s: an objective expression combines terms and numbers; a tensor expression becomes a term "
                        .. "through vib.term.custom { name = ..., value = function(v) ... end }", where or user_where() or "?"), 0)
  end
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

-- ---- tensor expressions: the values a custom term reads and the ops over them ----------------

-- A node of a custom term's graph: { op, a, b (operand nodes), axis, keepdim, v0, v1, name, where }.
-- nn/nn_expr.c checks the shapes against the model and runs the ops; here they are only recorded,
-- each with the script line of the operation.
local TENSOR = {}
local getinfo = core.getinfo
local function tensor_where(opname)
  -- An op called in a tail position (`return x:sum(2)`) leaves no frame of its caller: the lines
  -- of the user function being called (core.call_user) tell where instead. The DSL's own calls
  -- below are never tail calls (`return (f(x))`: the parentheses keep the caller's frame), so a
  -- tail call seen before the user's frame is the user's.
  for level = 2, 50 do
    local info = getinfo(level, "St")
    if not info or info.source:sub(1, 4) ~= "=vib" then break end
    if info.istailcall then return core.source_where(opname) end
  end
  return user_where() or core.source_where(opname)
end
local function is_tensor(v) return vib.kind(v) == "tensor" end
local function tnode(opname, fields_)
  local n = { [TAG] = "tensor", op = opname, where = tensor_where(opname) }
  for k, v in pairs(fields_ or {}) do n[k] = v end
  setmetatable(n, TENSOR)
  return n
end
local function as_tensor(v, opname)
  if is_tensor(v) then return v end
  if type(v) == "number" then
    local n = setmetatable({ [TAG] = "tensor", op = "const", v0 = v, where = user_where() or "?" }, TENSOR)
    return n
  end
  local k = vib.kind(v)
  fail(string.format("%s: tensor expressions combine values (vib.value, v.<name>) and numbers, got %s%s", opname,
                     k or type(v), (k == "term" or k == "expr") and "; terms combine in the objective, not inside a custom term" or ""))
end
local function bin(opname, a, b)
  local n = tnode(opname, { a = as_tensor(a, opname), b = as_tensor(b, opname) })
  return n
end
local function un(opname, a, extra)
  local f = { a = as_tensor(a, opname) }
  for k, v in pairs(extra or {}) do f[k] = v end
  local n = tnode(opname, f)
  return n
end
-- Lua's axes count from 1 (1: the rows, 2: the features), negative from the end; nil: every element.
local ALL = 99
local function axis_of(opname, axis)
  if axis == nil then return ALL end
  if not core.is_int(axis) or axis == 0 then
    fail(string.format("%s: axis must be a non-zero integer (1: rows, 2: features, -1: the last), got %s", opname, tostring(axis)))
  end
  return axis > 0 and axis - 1 or axis
end

local T = {}        -- the ops, as methods (x:sum(2)) and as vib.fn.* functions
for _, name in ipairs({ "exp", "log", "softplus", "sigmoid", "tanh", "square", "sqrt", "abs" }) do
  T[name] = function(x) return (un(name, x)) end
end
function T.clamp(x, lo, hi)
  if type(lo) ~= "number" or type(hi) ~= "number" then fail("clamp: give the bounds as numbers, x:clamp(lo, hi)") end
  return (un("clamp", x, { v0 = lo, v1 = hi }))
end
for _, name in ipairs({ "sum", "mean", "logsumexp", "max" }) do
  T[name] = function(x, axis, keepdim)
    if keepdim ~= nil and type(keepdim) ~= "boolean" then fail(name .. ": keepdim must be true or false") end
    return (un(name, x, { axis = axis_of(name, axis), keepdim = keepdim or nil }))
  end
end
function T.softmax(x, axis) return (un("softmax", x, { axis = axis_of("softmax", axis or -1) })) end
function T.log_softmax(x, axis) return (un("log_softmax", x, { axis = axis_of("log_softmax", axis or -1) })) end
function T.matmul(a, b) return (bin("matmul", a, b)) end
function T.transpose(x) return (un("transpose", x)) end
T.t = T.transpose
-- Squared Euclidean distances between the rows of a and those of b (of a itself without b).
function T.pdist(a, b)
  if b == nil then return (un("pdist", a)) end
  return (bin("pdist", a, b))
end
-- x[i, label_i] for each row i: labels is v.labels.
function T.gather(x, labels) return (bin("gather", x, labels)) end
function T.stop_gradient(x) return (un("stop_gradient", x)) end
TENSOR.__index = function(t, k)
  if T[k] then return T[k] end
  -- v.z.mu: a parameter of the stochastic layer a value names
  if rawget(t, "op") == "value" and not rawget(t, "name"):find(".", 1, true) and type(k) == "string" then
    return (vib.value(rawget(t, "name") .. "." .. k))
  end
  return nil
end
TENSOR.__add = function(a, b) return (bin("add", a, b)) end
TENSOR.__sub = function(a, b) return (bin("sub", a, b)) end
TENSOR.__mul = function(a, b) return (bin("mul", a, b)) end
TENSOR.__div = function(a, b) return (bin("div", a, b)) end
TENSOR.__unm = function(a) return (un("neg", a)) end
TENSOR.__pow = function(a, b)
  if b == 2 then return (un("square", a)) elseif b == 0.5 then return (un("sqrt", a)) end
  fail("tensor expressions raise to the power 2 or 0.5 only (x^2, x^0.5); write x:exp() and x:log() for others")
end

-- A named value of the model (nn/nn_expr.h lists them): "h1", "z.mu", "logits", "labels", ...
function vib.value(name)
  if type(name) ~= "string" or name == "" then fail("vib.value: give the name of a value, e.g. vib.value \"h1\"") end
  return (tnode("value", { name = name }))
end
vib.fn = {}
for k, f in pairs(T) do vib.fn[k] = f end
vib.fn.const = function(v)
  if type(v) ~= "number" then fail("vib.fn.const: give a number") end
  return (as_tensor(v, "const"))
end

-- The functions of objective expressions, which also apply to tensors.
function vib.log(x) if is_tensor(x) then return (T.log(x)) end return node("log", x) end
function vib.exp(x) if is_tensor(x) then return (T.exp(x)) end return node("exp", x) end
function vib.sqrt(x) if is_tensor(x) then return (T.sqrt(x)) end return node("sqrt", x) end
function vib.square(x) if is_tensor(x) then return (T.square(x)) end return node("square", x) end

-- The graph under root as a flat list, operands before the nodes that read them, each node once
-- (a shared subexpression is computed once); a, b are 1-based indices into the list.
local function flatten(root)
  local list, index = {}, {}
  local function visit(n)
    if index[n] then return index[n] end
    local a = rawget(n, "a") and visit(rawget(n, "a")) or nil
    local b = rawget(n, "b") and visit(rawget(n, "b")) or nil
    list[#list + 1] = { op = n.op, a = a, b = b, axis = rawget(n, "axis"), keepdim = rawget(n, "keepdim"),
                        v0 = rawget(n, "v0"), v1 = rawget(n, "v1"), name = rawget(n, "name"), where = n.where }
    index[n] = #list
    return #list
  end
  visit(root)
  return list
end

vib.term = {}
local term_common = { weight = "number?", name = "string?", layer = "string?",
                      schedule = enum("weight_schedule"), schedule_epochs = "number?", schedule_from = "number?" }
local function term(kind, extra, check)
  return function(t)
    local x = fields("vib.term." .. kind, t or {}, with(term_common, extra), "term")
    x.kind = kind
    if x.weight and x.weight < 0 then fail(string.format("vib.term.%s: weight=%g must be >= 0", kind, x.weight)) end
    if check then check(x) end
    return setmetatable(x, EXPR)
  end
end
-- A term the script writes: value(v) returns a tensor expression over the model's values (v.h1,
-- v.z.mu, v.logits, v.labels, ...; v("name") for any), one value per example, or one per batch with
-- per = "batch". rate = true: it bounds I(X;Z) of the stochastic layer it reads (or `layer`), and the
-- variational estimator reads it. The expression is recorded here, once; nn/nn_expr.c runs it.
function vib.term.custom(t)
  local x = fields("vib.term.custom", t or {}, with(term_common, { value = "function", per = "enum:example|batch?",
                   rate = "bool?" }), "term")
  if not x.name then fail("vib.term.custom: missing required key 'name' (its column in metrics.csv: <name>_bits)") end
  if x.weight and x.weight < 0 then fail(string.format("vib.term.custom: weight=%g must be >= 0", x.weight)) end
  local v = setmetatable({}, {
    __index = function(_, k) return (vib.value(k)) end,
    __call = function(_, name) return (vib.value(name)) end,
  })
  local root = core.call_user(x.value, v)
  if type(root) == "number" then root = as_tensor(root, "value") end
  if not is_tensor(root) then
    error(string.format("%s: vib.term.custom: value must return a tensor expression (v.h1:square():sum(2), ...), got %s",
                        x.where, vib.kind(root) or type(root)), 0)
  end
  x.kind, x.value, x.graph = "custom", nil, flatten(root)
  x.per_batch = x.per == "batch" or nil
  x.per = nil
  return setmetatable(x, EXPR)
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
vib.term.recon = term("recon", { likelihood = enum("likelihood") })

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
-- The fields of a term that reads `layer`, or, when the script named none, the one layer of the
-- model of one of `kinds` (vib_resolve.lua picks it per point: two or more are an error at the
-- constructor's line). "z" stands in until then, so a model without one errs as before.
local function reads(layer, fn, kinds, fields_)
  if layer then fields_.layer = layer
  else fields_.layer, fields_.layer_from = "z", { fn = fn, kinds = kinds } end
  return fields_
end
local sched_keys = { schedule = enum("weight_schedule"), schedule_epochs = "number?", schedule_from = "number?" }
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
                   mc = "bool?", components = "int?", h = enum("h") }), "term")
  if x.beta < 0 then fail(string.format("vib.obj.vib: beta=%g must be >= 0", x.beta)) end
  local ce = mk("ce", x.where, { smoothing = x.smoothing })
  local kl = mk("kl", x.where, reads(x.layer, "vib.obj.vib", { "gauss", "bern" },
                { mc = x.mc, components = x.components, schedule = x.schedule, schedule_epochs = x.schedule_epochs,
                  schedule_from = x.schedule_from }))
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
  local x = fields("vib.obj.uib", t or {}, { kind = enum("uib_kind", true), beta = "number?", gamma = "number?",
                   layer = "string?", bound = enum("bound"), relevance = enum("relevance") }, "term")
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
  -- ib and ceb bound H[Z|Y] (class-conditional), dib H[Z].
  local h = mk(x.bound == "l2" and "l2" or "logvar", x.where,
               reads(x.layer, "vib.obj.uib", { "noise" }, { weight = w, per_class = x.kind ~= "dib",
                                                            name = x.kind == "dib" and "hz" or "hz_y" }))
  return objective(x.where, ce, h)
end
-- Variational CEB (Fischer 2020): CE + 1/gamma (log e(z|x) - log b(z|y)), z from a vib.gauss layer.
function vib.obj.ceb(t)
  local x = fields("vib.obj.ceb", t or {}, { gamma = "number", layer = "string?" }, "term")
  if x.gamma <= 0 then fail(string.format("vib.obj.ceb: gamma=%g must be > 0", x.gamma)) end
  return objective(x.where, mk("ce", x.where, {}), mk("ceb", x.where, reads(x.layer, "vib.obj.ceb", { "gauss" }, { weight = 1 / x.gamma })))
end
-- Nonlinear IB (Kolchinsky et al.): CE + beta h(I_KDE(X;Z)), Z = f(X) + noise (a vib.noise layer).
function vib.obj.nlib(t)
  local x = fields("vib.obj.nlib", t or {}, { beta = "number", layer = "string?", var = "number?",
                   h = enum("h") }, "term")
  if x.beta < 0 then fail(string.format("vib.obj.nlib: beta=%g must be >= 0", x.beta)) end
  return compress(mk("ce", x.where, {}), mk("kde", x.where, reads(x.layer, "vib.obj.nlib", { "noise" }, { var = x.var })), x.beta, x.h, x.where)
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
                   likelihood = enum("likelihood") }), "term")
  if x.beta < 0 then fail(string.format("vib.obj.beta_vae: beta=%g must be >= 0", x.beta)) end
  return objective(x.where, mk("recon", x.where, { likelihood = x.likelihood }),
                   mk("kl", x.where, reads(x.layer, "vib.obj.beta_vae", { "gauss" },
                                           { weight = x.beta, schedule = x.schedule,
                                             schedule_epochs = x.schedule_epochs, schedule_from = x.schedule_from })))
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
core.compile_expr = compile_expr
