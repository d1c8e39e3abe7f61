-- mlp_fashion.lua: the deterministic baseline every IB model on Fashion-MNIST is compared with.
-- MLP 784-1024-1024-10 with ReLU, Adam (lr 1e-3), batch 100, inputs scaled to [0, 1], 20 epochs.
--
-- Target: at least 89.5% test accuracy (error <= 0.105) within 20 epochs; a PyTorch run of the
-- same recipe on this data reaches about that.
--
--   vibrun experiments/mlp_fashion.lua                    the full run
--   vibrun experiments/mlp_fashion.lua --set epochs=2     a quick look
--   vibrun experiments/mlp_fashion.lua --set seed=2       another replicate
local vib = require "vib"

return vib.experiment {
  name    = "mlp_fashion",
  data    = vib.data.fashion_mnist { scale = "unit" },
  params  = { hidden = 1024, lr = 1e-3, seed = 1 },
  model   = function(p) return vib.seq {
              vib.linear { out = p.hidden, name = "fc1" }, vib.relu {},
              vib.linear { out = p.hidden, name = "fc2" }, vib.relu {},
              vib.linear { out = 10, name = "logits" } } end,
  objective = vib.obj.ce {},
  optim   = function(p) return vib.optim.adam { lr = p.lr } end,
  epochs  = 20, batch = 100,
}
