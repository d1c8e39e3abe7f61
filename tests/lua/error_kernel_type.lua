-- expect: error_kernel_type.lua:6: vib.conv: 'kernel' must be an integer or two, { rows, columns }, got table
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv", shape = { 1, 2, 2 } },
  model = vib.seq {
    vib.conv { out = 4, kernel = { 3, 3, 3 } },
    vib.linear { out = 3 },
  },
}
