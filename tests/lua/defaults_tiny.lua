-- defaults_tiny.lua: an experiment that sets no setting, so its config.lua shows every default
-- (vib_settings.lua); test_vibrun compares them with nn_train_cfg_default().
local vib = require "vib"

return vib.experiment {
  name  = "defaults_tiny",
  data  = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "standardize" },
  model = vib.seq { vib.linear { out = 3 } },
}
