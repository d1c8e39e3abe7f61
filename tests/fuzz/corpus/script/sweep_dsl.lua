-- sweep_dsl.lua: every sweep constructor in one declaration, for test_sweep.c (--list only).
local vib = require "vib"

local zipped = vib.zip { hidden = { 6, 8 }, lr = { 0.01, 0.02 } }
return vib.experiment {
  name    = "sweep_dsl",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25 },
  params  = { hidden = 4, lr = 0.01, act = "tanh", drop = 0.0, seed = 1,
              width = function(p) return 2 * p.hidden end },              -- derived
  model   = function(p)
              local layers = { vib.linear { out = p.width }, p.act == "relu" and vib.relu {} or vib.tanh {} }
              if p.drop > 0 then layers[#layers + 1] = vib.dropout { p = p.drop } end
              layers[#layers + 1] = vib.linear { out = 3 }
              return vib.seq(layers) end,
  optim   = function(p) return vib.optim.adam { lr = p.lr } end,
  epochs  = 1, batch = 50,
  sweep   = vib.grid { act = { "tanh", "relu" },
                       drop = vib.when(function(p) return p.act == "relu" end, { 0.1, 0.2 }) }
            + zipped * vib.grid { seed = { 1, 2 } }
            + vib.random { n = 3, seed = 7, lr = vib.loguniform(1e-4, 1e-1), hidden = vib.choice { 2, 3 } }
            + vib.list { { hidden = 5, width = 7 } },
}
