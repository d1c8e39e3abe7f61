-- uib_mnist.lua: the Unpacking-IB surrogate objectives (Kirsch, Lyle, Gal; papers.md section 2)
-- side by side on MNIST: z = f(x) + zero-entropy noise N(0, (2 pi e)^-1 I), then
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
-- The paper's architectures (ResNets) and settings were not found (papers.md 2.7): this is a
-- permutation-invariant MLP, 784-1024-1024-256 (z) -> 10, Adam 1e-4 as the VIB recipe; every choice
-- is a param.
--
-- Compare with: no published numbers (papers.md 2.7); compare the objectives with each other and
-- with vib_mnist.lua (VIB's Table 1 has a deterministic baseline of 1.38% test error, papers.md 1.5).
--
--   vibrun experiments/uib_mnist.lua                       kind (ib, dib) x bound x noise, beta = 10
--   vibrun experiments/uib_mnist.lua --set kind=ib --set bound=logvar --set noise=true --set epochs=1 \
--       --set data_dir=data/mnist-t10k --set resplit=0.8          quick
local vib = require "vib"
local common = require "uib_common"     -- the model, objective, optimizer and measurement

return vib.experiment {
  name    = "uib_mnist",
  data    = function(p)
    return vib.data.mnist { scale = "pm1", dir = p.data_dir ~= "" and p.data_dir or nil,
                            resplit_test = p.resplit > 0 and p.resplit or nil }
  end,
  params  = { kind = "ib", beta = 10.0, gamma = 9.0, bound = "logvar", noise = true, relevance = "decoder",
              k = 256, seed = 1, data_dir = "", resplit = 0.0 },
  model   = common.model,
  objective = common.objective,
  optim   = common.optim,
  epochs  = 50, batch = 100,
  train_eval_limit = 10000,
  measure = common.measure,
  sweep   = vib.grid { kind = { "ib", "dib" }, bound = { "logvar", "l2" }, noise = { true, false } },
}
