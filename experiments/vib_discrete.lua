-- vib_discrete.lua: VIB on a small discrete problem whose exact IB curve is known (issue: "exact IB
-- solutions as ground truth"). X is uniform on 4 values, Y binary with p(y = 1 | x) = 0.1, 0.3, 0.7,
-- 0.9 (I(X;Y) = 0.325 bits, H(X) = 2 bits); 4,000 training and 1,000 test examples are drawn from
-- the joint with the point's seed, x one-hot. The encoder 4-16 tanh -> Gaussian z (k = 1), the
-- decoder one linear layer; loss CE + beta KL(p(z|x) || N(0, 1)). Every point writes the exact IB
-- curve of the joint (Tishby, Pereira & Bialek 1999; nn_ib_exact.h) as ib_exact.csv, and the
-- IB-curve figure draws it under the learned points: the variational rate bounds I(X;Z) from above
-- and H(Y) - CE bounds I(Z;Y) from below, so a learned point lies on or to the right of the curve.
--
--   vibrun experiments/vib_discrete.lua                    the beta sweep, 5 betas x 2 seeds
--   vibrun experiments/vib_discrete.lua --set epochs=5     quick
local vib = require "vib"

return vib.experiment {
  name    = "vib_discrete",
  data    = vib.data.discrete { joint = { { 0.225, 0.025 }, { 0.175, 0.075 }, { 0.075, 0.175 }, { 0.025, 0.225 } } },
  params  = { beta = 1e-2, seed = 1 },
  model   = vib.seq { vib.linear { out = 16, name = "h" }, vib.tanh {}, vib.gauss { k = 1, name = "z" },
                      vib.linear { out = 2, name = "decoder" } },
  objective = function(p) return vib.obj.vib { beta = p.beta, layer = "z" } end,
  optim   = vib.optim.adam { lr = 1e-2 },
  epochs  = 40, batch = 100, eval_samples = 12,
  measure = { every = "log2", layers = { "z" }, estimators = { "variational" } },
  sweep   = vib.grid { beta = { 1e-3, 1e-2, 3e-2, 1e-1, 3e-1 }, seed = { 1, 2 } },
}
