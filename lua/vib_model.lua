-- vib_model.lua: the layers of a model (vib.linear, vib.gauss, ...) and vib.seq. Loaded by vib.lua.

local vib, core = ...
local TAG = core.TAG
local fail = core.fail
local fields = core.fields
local user_where = core.user_where
local is_int = core.is_int
local enum = core.enum

-- ---- layers ---------------------------------------------------------------------------------

local function layer(kind, spec)
  spec.name = "string?"
  return function(t)
    local l = fields("vib." .. kind, t or {}, spec, "layer")
    l.kind = kind
    return l
  end
end

vib.linear = layer("linear", { out = "int", ["in"] = "int?", bias = "bool?",
                               init = enum("init"), std = "number?" })
vib.relu = layer("relu", {})
vib.tanh = layer("tanh", {})
vib.sigmoid = layer("sigmoid", {})
vib.softplus = layer("softplus", {})
vib.dropout = layer("dropout", { p = "number" })
-- The stochastic Gaussian encoder p(z|x) = N(mu(x), diag sigma(x)^2): mean and scale heads on its
-- input, sigma = softplus(rho + shift) (or exp), z = mu + sigma * eps with `samples` draws per input.
-- sigma = "unit" drops the scale head (sigma = 1: the encoder of variational CEB).
-- cov = "full": Cov = L L^T, L lower-triangular with a positive diagonal (small k, as VIB's k = 2).
vib.gauss = layer("gauss", { k = "int", sigma = enum("sigma"), shift = "number?", samples = "int?",
                             cov = enum("cov"),
                             init = enum("init"), std = "number?" })
-- Binary stochastic neurons p = sigmoid(W x + b), z ~ Bern(p), `particles` draws per incoming
-- particle (nested, as the IMB code); gradient "st" (straight-through, Raiko et al.) or
-- "concrete" (binary Concrete at `temperature`); evaluation uses eval_samples particles, or the
-- mean-field network p when eval_samples = 0.
vib.bern = layer("bern", { units = "int", particles = "int?", grad = enum("grad"), temperature = "number?",
                           init = enum("init"), std = "number?" })
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
