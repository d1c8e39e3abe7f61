-- vib_common.lua: the model, objective, optimizer and measurement that vib_mnist.lua and
-- vib_fashion.lua share (require "vib_common"): the Deep VIB recipe of the reference code, each
-- script's header describes it. Not an experiment itself.
local vib = require "vib"

local M = {}

function M.model(p)
  local z = vib.one_of(p.kind, { "vib", "det" }) == "vib"
    and vib.gauss { k = p.k, sigma = "softplus", shift = -5, init = "glorot", name = "z" }
    or vib.linear { out = p.k, init = "glorot", name = "z" }
  return vib.seq {
    vib.linear { out = 1024, init = "glorot" }, vib.relu {},
    vib.linear { out = 1024, init = "glorot" }, vib.relu {},
    z,
    vib.linear { out = 10, init = "glorot", name = "decoder" } }
end

function M.objective(p)
  if p.kind == "vib" then return vib.obj.vib { beta = p.beta, layer = "z" } end
  return vib.obj.ce {}
end

M.optim = vib.optim.adam { lr = 1e-4, beta1 = 0.5, decay = 0.97, decay_every = 2 }
M.measure = { every = "log2", layers = { "z" }, estimators = { "variational", "kde" }, samples = 2000 }

return M
