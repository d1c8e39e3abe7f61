-- uib_common.lua: the model, objective, optimizer and measurement that uib_mnist.lua and
-- uib_cifar.lua share (require "uib_common"): a permutation-invariant MLP with zero-entropy noise
-- on z and the Unpacking-IB surrogates, each script's header describes them. Not an experiment.
local vib = require "vib"

local M = {}

function M.model(p)
  local layers = {
    vib.linear { out = 1024, init = "glorot" }, vib.relu {},
    vib.linear { out = 1024, init = "glorot" }, vib.relu {},
    vib.linear { out = p.k, init = "glorot", name = "f" } }
  if p.noise then layers[#layers + 1] = vib.noise { name = "z" } end
  layers[#layers + 1] = vib.linear { out = 10, init = "glorot", name = "decoder" }
  return vib.seq(layers)
end

function M.objective(p)
  local layer = p.noise and "z" or "f"
  if p.kind == "ceb" then
    return vib.obj.uib { kind = "ceb", gamma = p.gamma, layer = layer, bound = p.bound, relevance = p.relevance }
  end
  return vib.obj.uib { kind = p.kind, beta = p.beta, layer = layer, bound = p.bound, relevance = p.relevance }
end

M.optim = vib.optim.adam { lr = 1e-4, beta1 = 0.5, decay = 0.97, decay_every = 2 }

function M.measure(p)
  return { every = "log2", layers = { p.noise and "z" or "f" }, estimators = { "variational", "kde" }, samples = 2000 }
end

return M
