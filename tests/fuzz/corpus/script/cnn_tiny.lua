-- cnn_tiny.lua: a seconds-long convolutional VIB on tiny.csv read as (1, 2, 2) images: convolution,
-- batch norm, a residual block, channel dropout, global pooling, a Gaussian bottleneck; EMA on, the
-- convolutional layer "r" measured pooled or flattened (param spatial), with the self-check
-- (test_vibrun.c).
local vib = require "vib"

return vib.experiment {
  name    = "cnn_tiny",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "standardize", shape = { 1, 2, 2 } },
  params  = { spatial = "gap", seed = 1 },
  model   = vib.seq {
    vib.conv { out = 4, kernel = 3, padding = 1 }, vib.batchnorm {}, vib.relu { name = "r" },
    vib.residual { vib.conv { out = 4, kernel = 3, padding = 1, bias = false }, vib.batchnorm {} },
    vib.relu {}, vib.dropout { p = 0.1, per_channel = true },
    vib.global_avgpool {}, vib.gauss { k = 2, name = "z" }, vib.linear { out = 3 } },
  objective = vib.obj.vib { beta = 0.01 },
  optim   = vib.optim.adam { lr = 0.01 },
  epochs  = 3, batch = 20, eval_samples = 4, ema = 0.9,
  measure = function(p)
    return { layers = { "r", "z" }, estimators = { "binning", "kde" }, samples = 60, selfcheck = true,
             spatial = p.spatial }
  end,
}
