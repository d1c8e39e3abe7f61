-- expect: error_augment_data.lua:4: augment = "crop_flip" applies to the images of vib.data.cifar10, not to csv data
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 3 } },
  augment = "crop_flip",
}
