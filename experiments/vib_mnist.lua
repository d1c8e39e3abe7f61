-- vib_mnist.lua: Deep Variational Information Bottleneck (Alemi et al., ICLR 2017) on MNIST with
-- the reference implementation's recipe (papers.md 1.3): encoder 784-1024-1024 (ReLU) -> Gaussian
-- z, K = 256, sigma = softplus(rho - 5); decoder one linear layer; inputs 2x-1; Xavier-uniform init;
-- loss = CE + beta KL(p(z|x) || N(0, I)), one sample in training; Adam lr 1e-4, beta1 0.5,
-- x0.97 every 2 epochs; batch 100; 200 epochs; EMA 0.999 (zero-debiased) evaluated with the mean
-- softmax of 12 samples of z. kind = "det" is the deterministic baseline (z = mu).
--
-- Compare with (papers.md 1.3, 1.5): beta = 1e-3, the reference code reaches 1.19% 12-sample test
-- error (I(X;Z) about 22 bits, I(Z;Y) about 3.2 bits); the paper's Table 1: VIB 1.13%, baseline
-- 1.38%. Over the sweep the rate falls as beta grows (Figure 1).
-- After training, FGSM (the final version's FGS attack; papers.md 1.5) attacks the first 1000 test
-- images under the paper's protocol (attack.csv; robust_fashion.lua adds the adaptive protocol).
--
--   vibrun experiments/vib_mnist.lua --set beta=1e-3                  one point, 200 epochs
--   vibrun experiments/vib_mnist.lua                                  the beta sweep 1e-9 .. 1
--   vibrun experiments/vib_mnist.lua --set beta=1e-3 --set epochs=1 \
--       --set data_dir=data/mnist-t10k --set resplit=0.8   quick, on the MNIST test set
local vib = require "vib"
local common = require "vib_common"     -- the model, objective, optimizer and measurement

return vib.experiment {
  name    = "vib_mnist",
  data    = function(p)
    return vib.data.mnist { scale = "pm1", dir = p.data_dir ~= "" and p.data_dir or nil,
                            resplit_test = p.resplit > 0 and p.resplit or nil }
  end,
  params  = { k = 256, beta = 1e-3, kind = "vib", seed = 1, data_dir = "", resplit = 0.0 },
  model   = common.model,
  objective = common.objective,
  optim   = common.optim,
  ema     = 0.999, epochs = 200, batch = 100, eval_samples = 12,
  train_eval_limit = 10000,
  measure = common.measure,
  attack  = { n = 1000, split = "test", vib.attack.fgsm { eps = { 0.1, 0.2, 0.3, 0.4, 0.5 } } },
  sweep   = vib.grid { beta = vib.logspace(-9, 0, 10) },
}
