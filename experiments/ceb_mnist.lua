-- ceb_mnist.lua: variational Conditional Entropy Bottleneck (Fischer 2020; papers.md 2.7) on MNIST:
-- the encoder e(z|x) = N(f(x), I) (unit variance, sigma = "unit"), the backward encoder
-- b(z|y) = N(A onehot(y), I) with A learned, the decoder c(y|z) a linear layer:
--   loss = -log c(y|z) + 1/gamma (log e(z|x) - log b(z|y))    (single sample of z per example)
-- The residual term is an upper bound on I(X;Z|Y). Trunk and optimizer as the VIB recipe
-- (784-1024-1024 ReLU, K = 256, inputs 2x-1, Adam 1e-4 beta1 0.5, x0.97 every 2 epochs, EMA,
-- 12-sample evaluation); sigma = "softplus" is available as a param (learned diagonal variance).
--
-- Compare with: papers.md has no CEB result (only its variational form, a secondary source,
-- papers.md 2.7); compare with vib_mnist.lua at equal epochs.
--
--   vibrun experiments/ceb_mnist.lua                              gamma in {1, 10, 100}
--   vibrun experiments/ceb_mnist.lua --set gamma=10 --set epochs=1 \
--       --set data_dir=data/mnist-t10k --set resplit=0.8   quick
local vib = require "vib"

return vib.experiment {
  name    = "ceb_mnist",
  data    = function(p)
    return vib.data.mnist { scale = "pm1", dir = p.data_dir ~= "" and p.data_dir or nil,
                            resplit_test = p.resplit > 0 and p.resplit or nil }
  end,
  params  = { gamma = 10.0, sigma = "unit", k = 256, seed = 1, data_dir = "", resplit = 0.0 },
  model   = function(p)
    return vib.seq {
      vib.linear { out = 1024, init = "glorot" }, vib.relu {},
      vib.linear { out = 1024, init = "glorot" }, vib.relu {},
      vib.gauss { k = p.k, sigma = p.sigma, shift = p.sigma == "unit" and 0 or -5, init = "glorot", name = "z" },
      vib.linear { out = 10, init = "glorot", name = "decoder" } }
  end,
  objective = function(p) return vib.obj.ceb { gamma = p.gamma, layer = "z" } end,
  optim   = vib.optim.adam { lr = 1e-4, beta1 = 0.5, decay = 0.97, decay_every = 2 },
  ema     = 0.999, epochs = 100, batch = 100, eval_samples = 12,
  train_eval_limit = 10000,
  measure = { every = "log2", layers = { "z" }, estimators = { "variational", "kde" }, samples = 2000 },
  sweep   = vib.grid { gamma = { 1.0, 10.0, 100.0 } },
}
