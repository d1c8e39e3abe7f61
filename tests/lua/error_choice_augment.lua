-- expect: error_choice_augment.lua:6: vib.experiment: 'augment' = "crop" is not one of none, crop_flip (did you mean "crop_flip"?)
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.cifar10 {},
  model = vib.seq { vib.linear { out = 3 } },
  augment = "crop",
}
