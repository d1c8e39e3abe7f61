-- uib_cifar.lua: the Unpacking-IB surrogate objectives (Kirsch, Lyle, Gal; papers.md section 2)
-- side by side on CIFAR-10: z = f(x) + zero-entropy noise N(0, (2 pi e)^-1 I), then
--   ib:  H_theta[Y|Z] + 1/(beta-1) H[Z|Y]      dib: H_theta[Y|Z] + 1/beta H[Z]
--   ceb: H_theta[Y|Z] + 1/gamma H[Z|Y]
-- What is compared is the bounds, not the exact objectives. IB(beta) = CEB(gamma = beta - 1) holds
-- for the exact objectives (papers.md 2.2, from I(X;Z) = I(Y;Z) + I(X;Z|Y)); these surrogates equal
-- them only when H[Z|X] is constant (true with the zero-entropy
-- noise, false in the noise = false arm); here kind = "ib" and kind = "ceb" build the same terms
-- with the same weight 1/(beta - 1) = 1/gamma, so they are one objective by construction (and
-- vib.obj.ceb, Fischer's variational CEB, is another one). With zero-entropy noise H[Z|X] = 0, so
-- DIB's H[Z] and IB's I(X;Z) coincide too; the surrogates differ in H[Z] vs H[Z|Y]. The sweep
-- leaves ceb out: with gamma = beta - 1 its points repeated ib's.
-- The entropies are bounded by batch log-variances (bound = "logvar") or by the L2 activation
-- (bound = "l2"; per class for H[Z|Y]), with and without the noise (noise = false shows the collapse of the scale of z
-- that the noise prevents). relevance = "prediction" (H_theta[Y|X], the cross-entropy of the
-- prediction averaged over particles) is refused here: a vib.noise layer draws one sample per
-- example in training, so it would equal the decoder's cross-entropy.
-- The paper trains ResNets; its exact architectures and settings were not found (papers.md 2.7).
-- Here: a ResNet-20 trunk (He et al. 2016, option A; --set depth=18 for the CIFAR ResNet-18,
-- option B), whose global-average-pooled penultimate features ("pool": 64, ResNet-18 512) get the
-- zero-entropy noise (z) before one linear decoder; trained as He et al. train ResNet-20 (SGD
-- momentum 0.9, lr 0.1, weight decay 1e-4, batch 128, lr / 10 at epochs 91 and 136 of 182).
-- The data recipe is He et al.'s too: CIFAR-10's published per-channel statistics
-- (scale = "channel_published") and augment = "crop_flip".
--
-- Compare with: no published numbers (papers.md 2.7); compare the objectives with each other. He
-- et al.'s ResNet-20 reaches 8.75% test error with augmentation (cross-entropy alone).
--
--   vibrun experiments/uib_cifar.lua                       kind (ib, dib) x bound x noise, beta = 10
--   vibrun experiments/uib_cifar.lua --set kind=ib --set bound=logvar --set noise=true --set epochs=1 \
--       --set train_limit=1000 --set data_dir=data/cifar-10-subset     quick, on the CIFAR sample
local vib = require "vib"

-- The Unpacking-IB objectives on the noisy penultimate layer (or on the features themselves
-- without noise), as uib_common.lua builds them for the MLPs.
local function layer(p) return p.noise and "z" or "pool" end

return vib.experiment {
  name    = "uib_cifar",
  data    = function(p)
    return vib.data.cifar10 { scale = "channel_published", dir = p.data_dir ~= "" and p.data_dir or nil,
                              train_limit = p.train_limit > 0 and p.train_limit or nil }
  end,
  params  = { kind = "ib", beta = 10.0, gamma = 9.0, bound = "logvar", noise = true, relevance = "decoder",
              depth = 20, seed = 1, data_dir = "", train_limit = 0 },
  model   = function(p)
    local layers = { vib.resnet { depth = p.depth, classes = 0 } }
    if p.noise then layers[#layers + 1] = vib.noise { name = "z" } end
    layers[#layers + 1] = vib.linear { out = 10, name = "decoder" }
    return vib.seq(layers)
  end,
  objective = function(p)
    if p.kind == "ceb" then
      return vib.obj.uib { kind = "ceb", gamma = p.gamma, layer = layer(p), bound = p.bound, relevance = p.relevance }
    end
    return vib.obj.uib { kind = p.kind, beta = p.beta, layer = layer(p), bound = p.bound, relevance = p.relevance }
  end,
  optim   = vib.optim.sgd { lr = 0.1, momentum = 0.9, weight_decay = 1e-4, schedule = "step",
                            milestones = { 91, 136 } },
  augment = "crop_flip",
  epochs  = 182, batch = 128, eval_batch = 500,
  train_eval_limit = 10000,
  measure = function(p)
    return { every = "log2", layers = { layer(p) }, estimators = { "variational", "kde" }, samples = 2000 }
  end,
  sweep   = vib.grid { kind = { "ib", "dib" }, bound = { "logvar", "l2" }, noise = { true, false } },
}
