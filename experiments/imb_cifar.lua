-- imb_cifar.lua: Information Multi-Bottlenecks (Nguyen & Choi) on CIFAR-10, permutation-invariant:
-- 3072-1024-1024-10 with Bernoulli hidden layers (32 particles per layer per incoming particle,
-- straight-through gradient), the IMB objective of imb_mnist.lua, Adamax 0.01, clip 5, batch 16.
-- The paper's CIFAR-10 architecture was not found (papers.md 3.5; a convolutional feature
-- extractor in front of the stochastic layers is unverified recollection); a convolutional front
-- end arrives with the CIFAR-models issue.
-- Pixels are scaled to [0, 1] as the MNIST recipe.
--
-- Compare with: no published number for this permutation-invariant network (papers.md 3.5); our
-- rough expectation for an MLP of this size is 45-55% test error on CIFAR-10 (not a source).
--
--   vibrun experiments/imb_cifar.lua
--   vibrun experiments/imb_cifar.lua --set epochs=1 --set particles=4 --set eval_samples=4 --set eval_passes=2 \
--       --set data_dir=data/cifar-10-subset                quick, on some batches of the official binary files
local vib = require "vib"
local common = require "imb_common"     -- the model, objective, optimizer and measurement

return vib.experiment {
  name    = "imb_cifar",
  data    = function(p) return vib.data.cifar10 { scale = "unit", dir = p.data_dir ~= "" and p.data_dir or nil } end,
  params  = { gamma1 = 0.8, gamma2 = 1.0, beta = 1e-3, particles = 32, seed = 1, data_dir = "",
              info_samples = 2000 },
  model   = common.model(1024),
  objective = common.objective,
  optim   = common.optim,
  epochs  = 100, batch = 16, eval_batch = 25, eval_samples = 32,
  eval_passes = 100,
  train_eval_limit = 1000,
  measure = common.measure,
}
