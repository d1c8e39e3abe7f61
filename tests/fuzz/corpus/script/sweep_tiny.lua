-- sweep_tiny.lua: a 12-point sweep (2 widths x 2 learning rates x 3 replicates) of seconds, for
-- test_sweep.c: --jobs, kill -9 and --resume, shards, --merge, summary.csv, status; and the Slurm test.
local vib = require "vib"

return vib.experiment {
  name    = "sweep_tiny",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "standardize" },
  params  = { hidden = 4, lr = 0.01, seed = 1, width = function(p) return 2 * p.hidden end },
  model   = function(p) return vib.seq {
              vib.linear { out = p.width, name = "hidden" }, vib.tanh {}, vib.dropout { p = 0.1 },
              vib.linear { out = 3, name = "logits" } } end,
  optim   = function(p) return vib.optim.adam { lr = p.lr } end,
  epochs  = 3, batch = 20, ema = 0.9, replicates = 3,
  sweep   = vib.grid { hidden = { 4, 8 } } * vib.list { { lr = 0.01 }, { lr = 0.03 } },
}
