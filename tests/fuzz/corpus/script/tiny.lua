-- tiny.lua: a seconds-long experiment on a generated CSV (tiny.csv in the working directory),
-- used by test_vibrun.c for the end-to-end run, reproducibility, --set, --check and replay.
local vib = require "vib"

return vib.experiment {
  name    = "tiny",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "standardize" },
  params  = { hidden = 16, lr = 0.01, seed = 1 },
  model   = function(p) return vib.seq {
              vib.linear { out = p.hidden, name = "hidden" }, vib.tanh {},
              vib.dropout { p = 0.1 },
              vib.linear { out = 3, name = "logits" } } end,
  objective = vib.obj.ce {},
  optim   = function(p) return vib.optim.adam { lr = p.lr, decay = 0.9, decay_every = 1 } end,
  epochs  = 4, batch = 20, ema = 0.9,
  sweep   = vib.grid { hidden = { 8, 16 } },
}
