-- vib_attack.lua: the attack block of an experiment (vib.attack.*, vib.attack_block), run after
-- training on the weights evaluation uses (nn/nn_attack.h; docs/robustness.md). Loaded by vib.lua.
--
--   attack = { n = 1000, split = "test", batch = 100,
--              vib.attack.fgsm { eps = { 0.05, 0.1, 0.2, 0.3 } },
--              vib.attack.pgd  { norm = "linf", eps = { 0.1, 0.2 }, steps = 40, restarts = 1 } },
--
-- Epsilons are in pixels of [0, 1], whatever the data set's scale. fgsm and pgd run under the
-- paper's protocol: the prediction is the mean softmax over eval_samples samples, the attack
-- follows that prediction's gradient, and success is judged once; auto runs the adaptive one.

local vib, core = ...
local fail_at = core.fail_at
local fields = core.fields
local is_int = core.is_int

vib.attack = {}

-- eps = 0.1 or { 0.05, 0.1 }: a non-empty list of numbers >= 0.
local function eps_list(fn, a)
  local e = a.eps
  if type(e) == "number" then e = { e } end
  if type(e) ~= "table" or #e == 0 then
    fail_at(fn, "eps", fn .. ": 'eps' must be a number or a non-empty list of numbers (pixels of [0, 1])")
  end
  if #e > 16 then fail_at(fn, "eps", string.format("%s: %d epsilons; at most 16", fn, #e)) end
  for i, v in ipairs(e) do
    if type(v) ~= "number" or v ~= v then
      fail_at(fn, "eps", string.format("%s: eps[%d] must be a number, got %s", fn, i, tostring(v)))
    end
    if v < 0 or v > 1 then
      fail_at(fn, "eps", string.format("%s: eps[%d] = %s must be in [0, 1] (pixels of [0, 1])", fn, i, tostring(v)))
    end
  end
  a.eps = e
end

local function positive(fn, a, key)
  if a[key] ~= nil and a[key] < 1 then
    fail_at(fn, key, string.format("%s: %s = %s must be >= 1", fn, key, tostring(a[key])))
  end
end

-- FGSM (Goodfellow et al. 2015): x' = clip(x + eps sign(grad)), one gradient per epsilon.
function vib.attack.fgsm(t)
  local fn = "vib.attack.fgsm"
  local a = fields(fn, t or {}, { eps = "any", targeted = "bool?" }, "attack")
  eps_list(fn, a)
  a.kind = "fgsm"
  return a
end

-- PGD (Madry et al. 2018): steps of size `step` (default 2.5 eps / steps) from a random start in
-- the ball, projected onto the ball and [0, 1]; `restarts` for the examples not yet fooled.
function vib.attack.pgd(t)
  local fn = "vib.attack.pgd"
  local a = fields(fn, t or {}, { eps = "any", norm = "enum:linf|l2?", steps = "int?", restarts = "int?",
                                  step = "number?", random_start = "bool?", targeted = "bool?",
                                  loss = "enum:ce|dlr?" }, "attack")
  eps_list(fn, a)
  positive(fn, a, "steps")
  positive(fn, a, "restarts")
  if a.step ~= nil and not (a.step > 0) then fail_at(fn, "step", fn .. ": step must be > 0 (pixels per step)") end
  if a.targeted and a.loss == "dlr" then
    fail_at(fn, "loss", fn .. ": loss = \"dlr\" is untargeted; drop targeted = true or use loss = \"ce\"")
  end
  a.kind = "pgd"
  return a
end

-- APGD (Croce & Hein 2020) under the paper's protocol: `steps` steps (100) with the step-size
-- schedule of the paper, on the CE or the DLR loss. targeted = true is AutoAttack's APGD-T: the
-- targeted DLR loss (or the targeted CE with loss = "ce") toward each of the `targets` (9) classes the
-- clean prediction ranks highest after the label, one run per target on the examples not yet fooled;
-- an example counts as broken when misclassified (whatever class). Rows: apgd_ce, apgd_dlr, apgd_t.
function vib.attack.apgd(t)
  local fn = "vib.attack.apgd"
  local a = fields(fn, t or {}, { eps = "any", norm = "enum:linf|l2?", steps = "int?", loss = "enum:ce|dlr?",
                                  targeted = "bool?", targets = "int?", random_start = "bool?" }, "attack")
  eps_list(fn, a)
  positive(fn, a, "steps")
  positive(fn, a, "targets")
  if a.targets ~= nil and not a.targeted then
    fail_at(fn, "targets", fn .. ": targets is APGD-T's number of target classes; add targeted = true or drop it")
  end
  if a.targeted then
    a.loss = a.loss or "dlr"
    a.targets = a.targets or 9
  end
  a.kind = "apgd"
  return a
end

-- The adaptive protocol (Korshunova et al. 2021; AutoAttack's evaluation of randomized models, Croce
-- & Hein 2020): gradients by EOT over `eot` one-sample draws of a randomized model, APGD-CE then
-- APGD-DLR (`steps` each) on the examples still robust, an example robust only when each of
-- `reevaluate` predictions (eval_samples samples each) is right. Two rows per epsilon: apgd_ce and
-- auto (both). targets = k (0: off) adds APGD-T over the top k classes (AutoAttack's standard
-- evaluation's targeted attack) on the examples still robust after both: three rows, apgd_ce,
-- apgd_dlr (after CE and DLR) and auto (after all three).
function vib.attack.auto(t)
  local fn = "vib.attack.auto"
  local a = fields(fn, t or {}, { eps = "any", norm = "enum:linf|l2?", steps = "int?", eot = "int?",
                                  reevaluate = "int?", random_start = "bool?", targets = "int?" }, "attack")
  eps_list(fn, a)
  positive(fn, a, "steps")
  positive(fn, a, "eot")
  positive(fn, a, "reevaluate")
  if a.targets ~= nil and a.targets < 0 then
    fail_at(fn, "targets", string.format("%s: targets = %s must be >= 0 (0: no APGD-T)", fn, tostring(a.targets)))
  end
  a.kind = "auto"
  return a
end

-- Carlini-Wagner L2 (Carlini & Wagner 2017): Adam (step `lr`) on w, x = (tanh(w) + 1) / 2, minimizing
-- |x - x0|^2 + c max(margin, -kappa), `search` rounds of a per-example binary search over c from `c`,
-- `steps` steps each with early abort; the smallest successful perturbation is kept. No epsilon:
-- its attack.csv row reports the success rate and the L0 / L2 / L-inf distortions. eot = k (1):
-- each gradient the mean over k draws of the model's noise, and an iterate a success only when the
-- mean predictive of those k draws is fooled (1 draw: the paper's protocol, whose success on a
-- randomized model may be one draw's luck).
function vib.attack.cw_l2(t)
  local fn = "vib.attack.cw_l2"
  local a = fields(fn, t or {}, { targeted = "bool?", steps = "int?", search = "int?", c = "number?",
                                  kappa = "number?", lr = "number?", eot = "int?" }, "attack")
  positive(fn, a, "steps")
  positive(fn, a, "search")
  positive(fn, a, "eot")
  if a.c ~= nil and not (a.c > 0) then fail_at(fn, "c", fn .. ": c must be > 0 (the first constant of the search)") end
  if a.kappa ~= nil and not (a.kappa >= 0) then fail_at(fn, "kappa", fn .. ": kappa must be >= 0 (a confidence margin)") end
  if a.lr ~= nil and not (a.lr > 0) then fail_at(fn, "lr", fn .. ": lr must be > 0 (Adam's step on w)") end
  a.eps = { 0 }
  a.kind = "cw_l2"
  return a
end

-- The block: named settings and the attacks, in order.
function vib.attack_block(t)
  if vib.kind(t) == "attack_block" then return t end
  local fn = "attack"
  if type(t) ~= "table" then fail_at(fn, nil, "attack must be a table { n = ..., split = ..., vib.attack.* { ... }, ... }") end
  local named = {}
  for k, v in pairs(t) do
    if type(k) == "string" then named[k] = v
    elseif not is_int(k) or k < 1 or k > #t then
      fail_at(fn, nil, "attack: keys are names (n, split, batch) or the attacks listed in order")
    end
  end
  local b = fields(fn, named, { n = "int?", split = "enum:train|test?", batch = "int?" }, "attack_block")
  positive(fn, b, "n")
  positive(fn, b, "batch")
  b.n = b.n or 1000
  b.split = b.split or "test"
  b.batch = b.batch or 100
  if #t == 0 then fail_at(fn, nil, "attack: no attack listed; add vib.attack.fgsm { eps = ... } or another vib.attack.*") end
  if #t > 16 then fail_at(fn, nil, string.format("attack: %d attacks; at most 16", #t)) end
  for i = 1, #t do
    if vib.kind(t[i]) ~= "attack" then
      fail_at(fn, nil, string.format("attack[%d] is not an attack (vib.attack.fgsm, vib.attack.pgd, vib.attack.apgd, vib.attack.auto, vib.attack.cw_l2)", i))
    end
    b[i] = t[i]
  end
  return b
end
