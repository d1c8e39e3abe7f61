-- expect: error_data_shape.lua:4: shape = { 3, 2, 2 } has 12 elements but the data have 4 features per example; give a shape whose product is 4
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv", shape = { 3, 2, 2 } },
  model = vib.seq {
    vib.linear { out = 3 },
  },
}
