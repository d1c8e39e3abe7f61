-- augment_tiny.lua: CIFAR-10 (the sample, data_dir) with the crop-and-mirror augmentation and
-- per-channel normalization, a linear model, 100 training images: test_vibrun's augment tests.
local vib = require "vib"
return vib.experiment {
  name = "augment_tiny",
  data = function(p) return vib.data.cifar10 { dir = p.data_dir, scale = "channel", train_limit = 100,
                                               test_limit = 50 } end,
  params = { data_dir = "" },
  model = vib.seq { vib.linear { out = 10 } },
  optim = vib.optim.sgd { lr = 0.01, momentum = 0.9 },
  epochs = 2, batch = 25,
  augment = "crop_flip",
}
