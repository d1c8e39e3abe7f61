-- load_mlp.lua: a model written by another program (tests/tools/write_weights.py: an MLP trained with
-- NumPy, saved as safetensors under PyTorch's nn.Sequential names) imported with vib.load and map,
-- then evaluated and measured by vibrun without training (epochs = 0); test_weights.c runs it, and
-- docs/weights.md shows it.
local vib = require "vib"

return vib.experiment {
  name    = "load_mlp",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "none" },
  params  = { weights = "mlp.safetensors" },
  model   = vib.seq { vib.linear { out = 16, name = "h1" }, vib.tanh {}, vib.linear { out = 3, name = "out" } },
  init    = function(p) return vib.load { path = p.weights, map = { h1 = "0", out = "2" } } end,
  epochs  = 0,
  measure = { layers = { "h1" }, estimators = { "kde" } },
}
