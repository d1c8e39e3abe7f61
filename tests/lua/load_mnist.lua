-- load_mnist.lua: a model written by another program (tests/tools/write_weights.py --mnist: a
-- 784-64-10 ReLU MLP trained with NumPy on the first 8,000 images of the MNIST test set, saved as
-- safetensors under PyTorch's nn.Sequential names) imported with vib.load, evaluated on the last
-- 2,000 without training (epochs = 0), its hidden layer measured, and attacked with FGSM and PGD.
-- test_weights.c runs it, and docs/weights.md shows it.
--
--   /usr/bin/python3 tests/tools/write_weights.py --mnist DIR mnist.safetensors
--   vibrun tests/lua/load_mnist.lua --set data_dir=DIR
local vib = require "vib"

return vib.experiment {
  name    = "load_mnist",
  data    = function(p) return vib.data.mnist { dir = p.data_dir, scale = "unit", resplit_test = 0.8 } end,
  params  = { weights = "mnist.safetensors", data_dir = "data/mnist-t10k", n = 500 },
  model   = vib.seq { vib.linear { out = 64, name = "h1" }, vib.relu {}, vib.linear { out = 10, name = "out" } },
  init    = function(p) return vib.load { path = p.weights, map = { h1 = "0", out = "2" } } end,
  epochs  = 0,
  measure = { layers = { "h1" }, estimators = { "kde" } },
  attack  = function(p)
    return { n = p.n, vib.attack.fgsm { eps = { 0.05, 0.1 } },
             vib.attack.pgd { eps = { 0.05, 0.1 }, steps = 20 } }
  end,
}
