-- info_plane_mnist.lua: information planes of a VIB and of a deterministic MLP of the same shape
-- on Fashion-MNIST (MNIST with --set data=mnist), every estimator on every layer (issue #4):
--   encoder 784-1024-1024 (ReLU), then a 256-unit bottleneck: a Gaussian z (VIB, beta = 1e-3,
--   sigma = softplus(rho - 5)) or a ReLU layer (the MLP); a linear decoder to 10 logits.
--   Measured at epochs 0, 1, 2, 4, 8, ... and the last, on 2,000 fixed examples of each split:
--   the variational bounds (the rate and H(Y) - CE), the pairwise KDE bounds (kde_var 0.1 for
--   the deterministic layers, Saxe et al.'s MNIST setting; the Gaussian layer's own sigma),
--   binning (30 bins over [-1, 1]; the ReLU layers overflow it, which info.csv's clipped_frac and a
--   warning report) and k-NN (KSG, k = 3). selfcheck = true runs every estimator on tasks with
--   known information at each layer's size first (selfcheck.csv, and the errors under each
--   plane): at n = 2,000 KSG's I(X;Z) between the 784-pixel input and a layer is about 0 whatever
--   the truth, so read its rows for I(Z;Y) only.
--
-- What to look for: the VIB's rate and the KDE upper bound of z bracket the same compression; the
-- ReLU MLP's layers show no compression phase in the binning estimate (Saxe et al. 2018).
--
--   vibrun experiments/info_plane_mnist.lua                         both models, 20 epochs
--   vibrun experiments/info_plane_mnist.lua --set model=vib --set epochs=1 --set samples=500
--   vibrun experiments/info_plane_mnist.lua --set data=mnist --set data_dir=data/mnist-t10k --set resplit=0.8 --set epochs=1 --set samples=500
local vib = require "vib"

return vib.experiment {
  name    = "info_plane_mnist",
  data    = function(p)
    local dir = p.data_dir ~= "" and p.data_dir or nil
    local resplit = p.resplit > 0 and p.resplit or nil
    if vib.one_of(p.data, { "fashion-mnist", "mnist" }) == "mnist" then return vib.data.mnist { scale = "pm1", dir = dir, resplit_test = resplit } end
    return vib.data.fashion_mnist { scale = "pm1", dir = dir, resplit_test = resplit }
  end,
  params  = { model = "vib", beta = 1e-3, samples = 2000, data = "fashion-mnist", data_dir = "", resplit = 0.0, seed = 1 },
  model   = function(p)
    local z = vib.one_of(p.model, { "vib", "mlp" }) == "vib"
      and vib.gauss { k = 256, sigma = "softplus", shift = -5, init = "glorot", name = "z" }
      or vib.seq { vib.linear { out = 256, init = "glorot" }, vib.relu { name = "z" } }
    return vib.seq {
      vib.linear { out = 1024, init = "glorot" }, vib.relu { name = "h1" },
      vib.linear { out = 1024, init = "glorot" }, vib.relu { name = "h2" },
      z,
      vib.linear { out = 10, init = "glorot", name = "decoder" } }
  end,
  objective = function(p)
    if p.model == "vib" then return vib.obj.vib { beta = p.beta, layer = "z" } end
    return vib.obj.ce {}
  end,
  optim   = vib.optim.adam { lr = 1e-4, beta1 = 0.5, decay = 0.97, decay_every = 2 },
  ema     = 0.999, epochs = 20, batch = 100, eval_samples = 12,
  train_eval_limit = 10000,
  measure = function(p)
    return { every = "log2", estimators = "all", samples = p.samples, kde_var = 0.1, k = 3, selfcheck = true }
  end,
  sweep   = vib.grid { model = { "vib", "mlp" } },
}
