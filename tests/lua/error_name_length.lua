-- expect: error_name_length.lua:6: vib.gauss: name 'encoder_of_the_information_bottleneck_layer_one' is 47 characters; use at most 40
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq {
    vib.gauss { k = 2, name = "encoder_of_the_information_bottleneck_layer_one" },
    vib.linear { out = 3 },
  },
  objective = vib.obj.ce {},
}
