-- tishby_12bit.lua: the information plane of Shwartz-Ziv & Tishby (2017) on their 12-bit task,
-- and Saxe et al.'s (2018) ReLU counterpoint (papers.md section 4.1).
--   data: the authors' var_u.mat, 4,096 binary patterns of 12 bits, 2 classes; 80% train (3,277
--     patterns, a seeded split), the rest test; get it with `vibrun data get tishby`, or put
--     var_u.mat in $VIB_DATA/tishby (or ./data/tishby);
--   network 12-10-7-5-4-3-2: tanh (act = "tanh", the paper) or ReLU (act = "relu", Saxe et al.)
--     hidden layers, softmax output; weights N(0, 1/fan_in), zero biases; cross-entropy, Adam
--     lr 4e-4, batch 512, 8,000 epochs (the authors' IDNNs defaults);
--   the plane of every layer at ~120 log-spaced epochs on each split, by binning (tanh: 30 bins
--     over [-1, 1], the authors'; ReLU: bins of 0.07 from 0, Saxe et al.'s) with the pairwise KDE
--     bounds beside it (noise variance 1e-3, Saxe et al.'s IBnet setting); selfcheck.csv and
--     the planes give each estimator's error on known-MI tasks at each layer's n and width.
--
-- What to look for: with tanh the deeper layers first gain I(T;Y) and I(X;T) ("fitting"), then
-- lose I(X;T) over thousands of epochs ("compression"); with ReLU the binning estimate of I(X;T)
-- keeps growing and the compression phase is absent. The first layers stay near H(X) = log2 N
-- bits: binning a 10-unit layer of a 12-bit input loses almost nothing. The authors' planes
-- average 50 runs (seeds); `--set seed=N` or a seed sweep gives more.
--
--   vibrun experiments/tishby_12bit.lua                         both activations, 8,000 epochs
--   vibrun experiments/tishby_12bit.lua --set act=tanh --set epochs=2000
local vib = require "vib"

return vib.experiment {
  name    = "tishby_12bit",
  data    = vib.data.tishby { train_fraction = 0.8 },
  params  = { act = "tanh", seed = 1 },
  model   = function(p)
    local A = vib.one_of(p.act, { "tanh", "relu" }) == "relu" and vib.relu or vib.tanh
    local layers, fan_in = {}, 12
    for _, width in ipairs { 10, 7, 5, 4, 3 } do
      layers[#layers + 1] = vib.linear { out = width, init = "normal", std = 1 / math.sqrt(fan_in) }
      layers[#layers + 1] = A {}
      fan_in = width
    end
    layers[#layers + 1] = vib.linear { out = 2, init = "normal", std = 1 / math.sqrt(fan_in) }
    return vib.seq(layers)
  end,
  objective = vib.obj.ce {},
  optim   = vib.optim.adam { lr = 4e-4 },
  epochs  = 8000, batch = 512, eval_batch = 4096,
  measure = function(p)
    local binning = p.act == "relu" and { bin_size = 0.07 } or { bins = 30, range = { -1, 1 } }
    return { every = vib.log_epochs(8000, 120), estimators = { "binning", "kde" }, kde_var = 1e-3,
             bins = binning.bins, range = binning.range, bin_size = binning.bin_size, selfcheck = true }
  end,
  sweep   = vib.grid { act = { "tanh", "relu" } },
}
