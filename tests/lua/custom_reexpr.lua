-- custom_reexpr.lua: built-in terms written again with vib.term.custom (docs/custom-terms.md). Each
-- `which` trains once with the built-in term (form = "builtin") and once with its re-expression
-- (form = "custom"); test_expr.c checks that losses, terms and parameters agree within float
-- tolerance.
local vib = require "vib"

local K = 3                             -- the bottleneck's width
local TWO_PI_E = 2 * math.pi * math.exp(1)
local PI_E = math.pi * math.exp(1)
local STD = (2 * math.pi * math.exp(1)) ^ -0.5   -- vib.noise's default: zero-entropy noise
local S2 = STD * STD

-- KL(N(mu, diag sigma^2) || N(0, I)) per example.
local function kl(v)
  local mu, s = v.z.mu, v.z.sigma
  return 0.5 * (mu ^ 2 + s ^ 2 - 1 - 2 * s:log()):sum(2)
end
-- The batch's per-class statistics from the one-hot labels: the class weights pi (classes with two
-- or more rows, by frequency among them) and the class-centred variances (C, K) of f.
local function class_stats(v, f)
  local y = v.onehot                                    -- (B, C)
  local n = y:sum(1, true)                              -- (1, C): rows per class
  local valid = n * (n - 1):clamp(0, 1)                 -- counts of classes with >= 2 rows
  local pi = valid / valid:sum()                       -- (1, C)
  local mean = y:t():matmul(f) / n:clamp(1, 1e9):t()    -- (C, K)
  local d = f - y:matmul(mean)
  local var = y:t():matmul(d ^ 2) / n:clamp(1, 1e9):t()
  return pi, var
end
-- Kirsch et al.'s log-variance bound on H[Z] of z = f + N(0, s^2 I): sum_j 1/2 log(2 pi e (Var f_j + s^2)).
local function logvar(v)
  local f = v.z.f
  local var = ((f - f:mean(1, true)) ^ 2):mean(1)
  return 0.5 * (TWO_PI_E * var + TWO_PI_E * (1e-6 + S2)):log():sum()
end
local function logvar_class(v)
  local pi, var = class_stats(v, v.z.f)
  local h = (TWO_PI_E * var + TWO_PI_E * (1e-6 + S2)):log():sum(2)   -- (C)
  return 0.5 * (h * pi):sum()
end
-- The L2 bound pi e |z|^2 - d/2 per example (E|f + e|^2 = |f|^2 + d s^2), and per class.
local function l2(v) return PI_E * (v.z.f ^ 2):sum(2) + (PI_E * K * S2 - 0.5 * K) end
local function l2_class(v)
  local pi, var = class_stats(v, v.z.f)
  return PI_E * (var:sum(2) * pi):sum() + (PI_E * K * S2 - 0.5 * K)
end
-- Nonlinear IB's pairwise-KDE bound: -log 1/N sum_j exp(-|f_i - f_j|^2 / 2 s^2) per example.
local function kde(v)
  local f = v.z.f
  return -(f:pdist() * (-0.5 / S2)):logsumexp(2) + v.batch_size:log()
end

local custom = {
  kl = { value = kl, per = "example" }, logvar = { value = logvar, per = "batch" },
  logvar_class = { value = logvar_class, per = "batch" }, l2 = { value = l2, per = "example" },
  l2_class = { value = l2_class, per = "batch" }, kde = { value = kde, per = "example" },
}
local builtin = {
  kl = function() return vib.term.kl { layer = "z", name = "r" } end,
  logvar = function() return vib.term.logvar { layer = "z", name = "r" } end,
  logvar_class = function() return vib.term.logvar { layer = "z", name = "r", per_class = true } end,
  l2 = function() return vib.term.l2 { layer = "z", name = "r" } end,
  l2_class = function() return vib.term.l2 { layer = "z", name = "r", per_class = true } end,
  kde = function() return vib.term.kde { layer = "z", name = "r" } end,
}

return vib.experiment {
  name    = "custom_reexpr",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "standardize" },
  params  = { which = "kl", form = "builtin", seed = 1 },
  model   = function(p)
    local z = p.which == "kl" and vib.gauss { k = K, name = "z" } or vib.noise { name = "z" }
    return vib.seq { vib.linear { out = 8 }, vib.tanh {}, vib.linear { out = K }, z, vib.linear { out = 3 } }
  end,
  objective = function(p)
    local r
    if p.form == "builtin" then r = builtin[p.which]()
    else r = vib.term.custom { name = "r", value = custom[p.which].value, per = custom[p.which].per } end
    return vib.term.ce {} + 0.1 * r
  end,
  optim   = vib.optim.adam { lr = 0.01 },
  epochs  = 2, batch = 25, eval_batch = 100,
  sweep   = vib.grid { which = { "kl", "logvar", "logvar_class", "l2", "l2_class", "kde" }, form = { "builtin", "custom" } },
}
