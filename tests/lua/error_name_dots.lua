-- expect: error_name_dots.lua:4: vib.experiment: name '..' starts with '.'
local vib = require "vib"
return vib.experiment {
  name = "..", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 3 } },
  objective = vib.obj.ce {},
}
