#set hidden=8
#set epochs=2
#set lr=0.5
#set seed=3
local vib = require "vib"
-- a seed with --set lines (fuzz_script.c reads the leading "#set KEY=VALUE" lines as --set)
return vib.experiment { name = "sets", data = vib.data.csv { path = "tiny.csv" },
  params = { hidden = 4, lr = 0.1, seed = 1 }, epochs = 1, sweep = vib.grid { hidden = { 4, 8, 16 } },
  model = function(p) return vib.seq { vib.linear { out = p.hidden }, vib.relu {}, vib.linear { out = 3 } } end,
  optim = function(p) return vib.optim.adam { lr = p.lr } end }
