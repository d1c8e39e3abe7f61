-- expect: error_conv_flat.lua:7: conv 'c1': its input is 8 flat features, not a (C, H, W) map; image data sets give one (cifar10 3x32x32, mnist 1x28x28), other data take shape = { C, H, W } on vib.data.*, and a linear, flatten or global_avgpool layer before it makes features flat
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq {
    vib.linear { out = 8 },
    vib.conv { out = 4, kernel = 1, name = "c1" },
    vib.linear { out = 3 },
  },
}
