-- expect: error_conv_kernel.lua:7: conv 'c1': the kernel spans 3 rows (kernel 3, dilation 1) but the padded input has 2 (2 + 2 x padding 0); use a smaller kernel or dilation, more padding, or fewer downsampling layers before it
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv", shape = { 1, 2, 2 } },
  model = vib.seq {
    vib.relu {},
    vib.conv { out = 4, kernel = 3, name = "c1" },
    vib.linear { out = 3 },
  },
}
