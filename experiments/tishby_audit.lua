-- tishby_audit.lua: the tanh plane of tishby_12bit.lua (the same data, network, training) with
-- every estimate audited (measure.audit, nn_measure.h): a bootstrap interval and a shuffle
-- control on each point of info.csv, and in info_audit.csv the estimates at n/2 and n/4, at half
-- and twice the bin size, at a quarter and four times the KDE noise variance, and the
-- data-processing order along the layers. A short setting: 2,000 epochs, 12 measured epochs,
-- 1,000 examples per split. docs/information-planes.md says what survives the controls.
--
--   vibrun experiments/tishby_audit.lua
local vib = require "vib"
local base = require "tishby_12bit"

local measure = base.measure { act = "tanh" }
measure.every = vib.log_epochs(2000, 12)
measure.samples = 1000
measure.selfcheck = false
measure.audit = { bootstrap = 20 }

return vib.experiment {
  name = "tishby_audit", data = base.data, params = { act = "tanh", seed = 1 }, model = base.model,
  objective = base.objective, optim = base.optim, epochs = 2000, batch = base.batch,
  eval_batch = base.eval_batch, measure = measure,
}
