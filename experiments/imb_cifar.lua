-- imb_cifar.lua: Information Multi-Bottlenecks (Nguyen & Choi) on CIFAR-10: a convolutional feature
-- extractor, then two layers of Bernoulli units (32 particles per layer per incoming particle,
-- straight-through gradient) and the IMB objective of imb_mnist.lua, Adamax 0.01, clip 5, batch 16.
-- The paper's CIFAR-10 architecture was not found (papers.md 3.5): the trunk here is our choice, a
-- small VGG-style extractor ([3x3 conv, batch norm, ReLU] x 2 at `width` channels, 2x2 max
-- pooling, the same at 2 width, 2x2 max pooling, global average pooling: 2 width features, 24M
-- multiply-adds per image at width 32) that keeps the stochastic layers where the paper puts them,
-- on learned features instead of pixels, at a cost a CPU can train; the trunk is deterministic,
-- so its cost does not grow with the particles. kind = "det" is the deterministic baseline (the
-- same network with ReLU layers instead of Bernoulli ones, cross-entropy) and kind = "mle" the
-- stochastic network trained by likelihood alone (IMB's special case gammas = 0, betas = 0).
-- Pixels are scaled to [0, 1] as the MNIST recipe.
--
-- Compare with: no published number for this network (papers.md 3.5); compare the three kinds.
--
--   vibrun experiments/imb_cifar.lua                        imb, mle and det, 100 epochs
--   vibrun experiments/imb_cifar.lua --set kind=imb --set epochs=1 --set particles=4 --set eval_samples=4 \
--       --set eval_passes=2 --set train_limit=1000 --set data_dir=data/cifar-10-subset   quick, on the CIFAR sample
local vib = require "vib"
local common = require "imb_common"     -- the stochastic layers, objective, optimizer and measurement

local function trunk(w)
  local function block(ch)
    return vib.seq { vib.conv { out = ch, kernel = 3, padding = 1, bias = false }, vib.batchnorm {}, vib.relu {} }
  end
  return vib.seq { block(w), block(w), vib.maxpool { kernel = 2 }, block(2 * w), block(2 * w),
                   vib.maxpool { kernel = 2 }, vib.global_avgpool { name = "features" } }
end

return vib.experiment {
  name    = "imb_cifar",
  data    = function(p)
    return vib.data.cifar10 { scale = "unit", dir = p.data_dir ~= "" and p.data_dir or nil,
                              train_limit = p.train_limit > 0 and p.train_limit or nil }
  end,
  params  = { kind = "imb", gamma1 = 0.8, gamma2 = 1.0, beta = 1e-3, particles = 32, width = 32, units = 512,
              seed = 1, data_dir = "", train_limit = 0, info_samples = 2000 },
  model   = function(p)
    if vib.one_of(p.kind, { "imb", "mle", "det" }) == "det" then
      return vib.seq { trunk(p.width), vib.linear { out = p.units, init = "glorot", name = "h1" }, vib.relu {},
                       vib.linear { out = p.units, init = "glorot", name = "h2" }, vib.relu {},
                       vib.linear { out = 10, init = "glorot", name = "out" } }
    end
    return vib.seq { trunk(p.width), common.model(p.units)(p) }
  end,
  objective = function(p)
    if p.kind == "det" then return vib.obj.ce {} end
    if p.kind == "mle" then
      return vib.obj.imb { layers = { "h1", "h2" }, gammas = { 1, 0, 0 }, betas = { 0, 0 } }
    end
    return common.objective(p)
  end,
  optim   = common.optim,
  epochs  = 100, batch = 16, eval_batch = 25, eval_samples = 32,
  eval_passes = 100,
  train_eval_limit = 1000,
  measure = function(p)
    if p.kind == "det" then return { every = "log2", layers = { "h1", "h2" }, estimators = { "kde" }, samples = p.info_samples } end
    return common.measure(p)
  end,
  sweep   = vib.list { { kind = "imb" }, { kind = "mle" }, { kind = "det" } },
}
