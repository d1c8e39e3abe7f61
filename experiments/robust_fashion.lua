-- robust_fashion.lua: the robustness study of the Deep VIB paper (Alemi et al. 2017, Figures 3-4;
-- papers.md 1.5) on Fashion-MNIST, under the paper's protocol and an adaptive one side by side
-- (Korshunova et al. 2021: much of a stochastic model's robustness can be its noise hiding the
-- gradient). The VIB recipe of vib_fashion.lua (encoder 784-width-width ReLU -> Gaussian z of K,
-- sigma = softplus(rho - 5), one linear decoder, inputs 2x-1, Adam 1e-4 beta1 0.5, EMA 0.999,
-- prediction = mean softmax of 12 samples of z), over beta, with three baselines:
--   det       the same network with z = mu (a plain linear layer), cross-entropy
--   dropout   det with dropout p = 0.5 on both hidden layers
--   beta = 0  the stochastic VIB network without its KL term
-- Attacked after training, on the first n test images (docs/robustness.md):
--   paper     FGSM and PGD (L-inf) on the mean softmax of the 12 samples, judged once
--   adaptive  APGD-CE then APGD-DLR with gradients averaged over eot draws (EOT), robust only if
--             right in each of `reevaluate` predictions
-- attack.csv flags obfuscation_suspected where the adaptive robust accuracy is more than 5 points
-- below the paper protocol's.
--
--   vibrun experiments/robust_fashion.lua                                   the full study (200 epochs)
--   vibrun experiments/robust_fashion.lua --set epochs=5 --set width=256 --set k=64 \
--       --set n=200 --set steps=20 --set eot=5 --set reevaluate=5         small (docs/robustness.md)
--   vibrun experiments/robust_fashion.lua --set quick=true --set epochs=1   quick (CI, seconds)
local vib = require "vib"

return vib.experiment {
  name    = "robust_fashion",
  data    = function(p)
    return vib.data.fashion_mnist { scale = "pm1", train_limit = p.quick and 1000 or nil,
                                    test_limit = p.quick and 200 or nil }
  end,
  params  = { kind = "vib", beta = 1e-3, width = 1024, k = 256, p = 0.5, n = 1000, steps = 100, eot = 20,
              reevaluate = 10, cw_steps = 1000, cw_search = 9, quick = false, seed = 1 },
  model   = function(p)
    local kind = vib.one_of(p.kind, { "vib", "det", "dropout" })
    local width, k = p.quick and 32 or p.width, p.quick and 8 or p.k
    local drop = kind == "dropout" and p.p or 0
    local z = kind == "vib" and vib.gauss { k = k, sigma = "softplus", shift = -5, init = "glorot", name = "z" }
      or vib.linear { out = k, init = "glorot", name = "z" }
    return vib.seq {
      vib.linear { out = width, init = "glorot" }, vib.relu {}, vib.dropout { p = drop },
      vib.linear { out = width, init = "glorot" }, vib.relu {}, vib.dropout { p = drop },
      z,
      vib.linear { out = 10, init = "glorot", name = "decoder" } }
  end,
  objective = function(p)
    if p.kind == "vib" then return vib.obj.vib { beta = p.beta, layer = "z" } end
    return vib.obj.ce {}
  end,
  optim   = vib.optim.adam { lr = 1e-4, beta1 = 0.5, decay = 0.97, decay_every = 2 },
  ema     = 0.999, epochs = 200, batch = 100, eval_samples = 12,
  train_eval_limit = 10000,
  attack  = function(p)
    local n, steps = p.quick and 20 or p.n, p.quick and 5 or p.steps
    return { n = n, split = "test", batch = 100,
             vib.attack.fgsm { eps = { 0.05, 0.1, 0.2 } },
             vib.attack.pgd { norm = "linf", eps = { 0.05, 0.1, 0.2 }, steps = steps },
             vib.attack.auto { eps = { 0.05, 0.1, 0.2 }, steps = steps, eot = p.quick and 2 or p.eot,
                               reevaluate = p.quick and 2 or p.reevaluate },
             vib.attack.cw_l2 { targeted = true, steps = p.quick and 10 or p.cw_steps,
                                search = p.quick and 2 or p.cw_search } }
  end,
  sweep   = vib.list { { kind = "det" }, { kind = "dropout" } } + vib.grid { beta = { 0, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1 } },
}
