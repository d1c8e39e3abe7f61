-- load_tiny.lua: a seconds-long VIB on tiny.csv with a batch norm and a learned mixture prior (every
-- kind of tensor `vibrun export` writes), that starts from a weights file when the param weights
-- names one (init = vib.load): test_weights.c trains it, exports it, imports it with epochs = 0 and
-- compares the outputs bit for bit; hidden, rename (map = { h1 = rename }) and only (layers = { only })
-- make the mismatches its errors name.
local vib = require "vib"
local ce, kl = vib.term.ce {}, vib.term.kl { layer = "z", components = 2 }

return vib.experiment {
  name    = "load_tiny",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "standardize" },
  params  = { weights = "", hidden = 8, rename = "", only = "", beta = 0.01, seed = 1 },
  model   = function(p) return vib.seq {
              vib.linear { out = p.hidden, name = "h1" }, vib.batchnorm { name = "bn" }, vib.relu {},
              vib.gauss { k = 2, name = "z" }, vib.linear { out = 3, name = "out" } } end,
  objective = function(p) return ce + p.beta * kl end,
  init    = function(p)
    if p.weights == "" then return nil end
    return vib.load { path = p.weights, map = p.rename ~= "" and { h1 = p.rename } or nil,
                      layers = p.only ~= "" and { p.only } or nil }
  end,
  optim   = vib.optim.adam { lr = 0.01 },
  epochs  = 3, batch = 20, ema = 0.9,
}
