-- imb_common.lua: what imb_mnist.lua and imb_cifar.lua share (require "imb_common"): the
-- stochastic network of two Bernoulli layers, the IMB objective, the optimizer and the
-- measurement; each script's header describes them. Not an experiment.
local vib = require "vib"

local M = {}

-- The model with `units` Bernoulli units in each hidden layer, as a function of the point.
function M.model(units)
  return function(p)
    return vib.seq {
      vib.bern { units = units, particles = p.particles, init = "glorot", name = "h1" },
      vib.bern { units = units, particles = p.particles, init = "glorot", name = "h2" },
      vib.linear { out = 10, init = "glorot", name = "out" } }
  end
end

function M.objective(p)
  return vib.obj.imb { layers = { "h1", "h2" }, gammas = { 1, p.gamma1, p.gamma2 }, betas = { p.beta, p.beta } }
end

M.optim = vib.optim.adamax { lr = 0.01, clip = 5 }

function M.measure(p)
  return { every = "log2", layers = { "h1", "h2" }, estimators = { "variational", "kde", "plugin" },
           samples = p.info_samples }
end

return M
