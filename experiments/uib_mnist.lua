-- uib_mnist.lua: the Unpacking-IB surrogate objectives (Kirsch, Lyle, Gal; papers.md section 2)
-- side by side on MNIST: z = f(x) + zero-entropy noise N(0, (2 pi e)^-1 I), then
--   ib:  H_theta[Y|Z] + 1/(beta-1) H[Z|Y]      dib: H_theta[Y|Z] + 1/beta H[Z]
--   ceb: H_theta[Y|Z] + 1/gamma H[Z|Y]         (ib with beta equals ceb with gamma = beta - 1)
-- with the entropies bounded by batch log-variances (bound = "logvar") or by the L2 activation
-- (bound = "l2"), with and without the noise (noise = false shows the collapse of the scale of z
-- that the noise prevents). relevance = "prediction" uses H_theta[Y|X] instead.
-- The paper's architectures (ResNets) and settings were not found (papers.md 2.7): this is a
-- permutation-invariant MLP, 784-1024-1024-256 (z) -> 10, Adam 1e-4 as the VIB recipe; every choice
-- is a param.
--
-- Compare with: no published numbers (papers.md 2.7); compare the objectives with each other and
-- with vib_mnist.lua (a deterministic MLP of this size gets about 1.4% test error).
--
--   vibrun experiments/uib_mnist.lua                       kind x bound x noise, beta = 10, gamma = 9
--   vibrun experiments/uib_mnist.lua --set kind=ib --set bound=logvar --set noise=true --set epochs=1 \
--       --set data_dir=../shared/data/mnist-t10k --set resplit=0.8          quick
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
  sweep   = vib.grid { kind = { "ib", "dib", "ceb" }, bound = { "logvar", "l2" }, noise = { true, false } },
}
