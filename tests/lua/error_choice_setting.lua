-- expect: error_choice_setting.lua:6: vib.experiment: 'eval_avg' = "mean" is not one of probs, logits
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 3 } },
  eval_avg = "mean",
}
