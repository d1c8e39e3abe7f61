-- baselines_mnist.lua: the baselines of VIB's Table 1 (Alemi et al., papers.md 1.4-1.5) on MNIST,
-- the network 784-1024-1024-10 (ReLU) trained as the VIB recipe (inputs 2x-1, Adam 1e-4 beta1
-- 0.5, x0.97 every 2 epochs, batch 100, 200 epochs, EMA 0.999):
--   det          maximum likelihood (cross-entropy)
--   dropout      dropout p on both hidden layers (the rate was chosen on validation data; not found)
--   confidence   the confidence penalty CE - beta H(p(y|x)) (Pereyra et al.; beta not found)
--   smoothing    label smoothing: the target (1 - s) onehot(y) + s / C (C = 10 classes); the
--                paper's form replaces the one-hot zeros by epsilon and renormalizes, which is
--                s = C epsilon / (1 + (C - 1) epsilon): s = 0.1 is epsilon = 0.011
-- The values the paper used for p, beta and epsilon were not found (papers.md 1.4): the defaults
-- are common choices (dropout p = 0.5 on the hidden layers, beta = 0.1, s = 0.1), each a param.
--
-- Compare with (Table 1, K = 256): baseline 1.38%, dropout 1.34%, confidence penalty 1.36%,
-- label smoothing 1.40%, VIB 1.13%.
--
--   vibrun experiments/baselines_mnist.lua                         the four baselines
--   vibrun experiments/baselines_mnist.lua --set kind=dropout --set epochs=1 \
--       --set data_dir=data/mnist-t10k --set resplit=0.8   quick
local vib = require "vib"

return vib.experiment {
  name    = "baselines_mnist",
  data    = function(p)
    return vib.data.mnist { scale = "pm1", dir = p.data_dir ~= "" and p.data_dir or nil,
                            resplit_test = p.resplit > 0 and p.resplit or nil }
  end,
  params  = { kind = "det", p = 0.5, beta = 0.1, smoothing = 0.1, seed = 1, data_dir = "", resplit = 0.0 },
  model   = function(p)
    local kind = vib.one_of(p.kind, { "det", "dropout", "confidence", "smoothing" })
    local drop = kind == "dropout" and p.p or 0
    return vib.seq {
      vib.linear { out = 1024, init = "glorot" }, vib.relu {}, vib.dropout { p = drop },
      vib.linear { out = 1024, init = "glorot" }, vib.relu {}, vib.dropout { p = drop },
      vib.linear { out = 10, init = "glorot", name = "out" } }
  end,
  objective = function(p)
    if p.kind == "confidence" then return vib.obj.confidence { beta = p.beta } end
    if p.kind == "smoothing" then return vib.obj.ce { smoothing = p.smoothing } end
    return vib.obj.ce {}
  end,
  optim   = vib.optim.adam { lr = 1e-4, beta1 = 0.5, decay = 0.97, decay_every = 2 },
  ema     = 0.999, epochs = 200, batch = 100,
  train_eval_limit = 10000,
  sweep   = vib.grid { kind = { "det", "dropout", "confidence", "smoothing" } },
}
