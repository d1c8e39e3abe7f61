-- vib_cifar.lua: Deep Variational Information Bottleneck (Alemi et al., ICLR 2017) on CIFAR-10 with a
-- ResNet-20 trunk (He et al. 2016, option A shortcuts, vib.resnet { classes = 0 }): the 64
-- global-average-pooled features -> Gaussian z (K = k, sigma = softplus(rho - 5), as the VIB
-- recipe) -> one linear decoder; loss = CE + beta KL(p(z|x) || N(0, I)), one sample of z in
-- training, 12 in evaluation. kind = "det" is the deterministic twin (z a linear layer of the same
-- width, cross-entropy alone). The trunk is trained as He et al. train ResNet-20: SGD momentum 0.9,
-- lr 0.1, weight decay 1e-4, batch 128, lr / 10 at epochs 91 and 136 of 182 (32k and 48k of 64k
-- iterations), on the data recipe of He et al.: per-channel normalization with CIFAR-10's
-- published statistics (scale = "channel_published") and augment = "crop_flip" (random crops of
-- the 4-pixel-padded image, horizontal flips).
--
-- Compare with: He et al. report 8.75% test error for ResNet-20 with augmentation (91.25%
-- accuracy); no published VIB number on this trunk. Over the beta sweep the rate I(X;Z) falls as
-- beta grows; the deterministic twin is the beta = 0 reference.
--
--   vibrun experiments/vib_cifar.lua --set beta=1e-3                  one point, 182 epochs
--   vibrun experiments/vib_cifar.lua                                  the beta sweep 1e-6 .. 1e-1 and the twin
--   vibrun experiments/vib_cifar.lua --set kind=vib --set beta=1e-3 --set epochs=1 --set train_limit=1000 \
--       --set data_dir=data/cifar-10-subset                           quick, on the CIFAR sample
local vib = require "vib"

return vib.experiment {
  name    = "vib_cifar",
  data    = function(p)
    return vib.data.cifar10 { scale = "channel_published", dir = p.data_dir ~= "" and p.data_dir or nil,
                              train_limit = p.train_limit > 0 and p.train_limit or nil }
  end,
  params  = { kind = "vib", beta = 1e-3, k = 64, depth = 20, seed = 1, data_dir = "", train_limit = 0 },
  model   = function(p)
    local z = vib.one_of(p.kind, { "vib", "det" }) == "vib"
      and vib.gauss { k = p.k, sigma = "softplus", shift = -5, name = "z" }
      or vib.linear { out = p.k, name = "z" }
    return vib.seq { vib.resnet { depth = p.depth, classes = 0 }, z, vib.linear { out = 10, name = "decoder" } }
  end,
  objective = function(p)
    if p.kind == "vib" then return vib.obj.vib { beta = p.beta, layer = "z" } end
    return vib.obj.ce {}
  end,
  optim   = vib.optim.sgd { lr = 0.1, momentum = 0.9, weight_decay = 1e-4, schedule = "step",
                            milestones = { 91, 136 } },
  augment = "crop_flip",
  epochs  = 182, batch = 128, eval_batch = 500, eval_samples = 12,
  train_eval_limit = 10000,
  measure = { every = "log2", layers = { "z" }, estimators = { "variational", "kde" }, samples = 2000 },
  sweep   = vib.grid { beta = vib.logspace(-6, -1, 6) } + vib.list { { kind = "det" } },
}
