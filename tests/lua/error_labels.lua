-- expect: error_labels.lua:6: term 'ce': the data (tiny.csv) has labels 0 to 2, 3 classes, but the model outputs 2 values, one per class; end the model with vib.linear { out = 3 }
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 8 }, vib.relu {}, vib.linear { out = 2 } },
  objective = vib.obj.ce {},
}
