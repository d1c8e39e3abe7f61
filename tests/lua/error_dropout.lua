-- expect: error_dropout.lua:7: dropout 'dropout2': p=1.5 is not a probability in [0, 1)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq {
    vib.linear { out = 3 },
    vib.dropout { p = 1.5 },
  },
}
