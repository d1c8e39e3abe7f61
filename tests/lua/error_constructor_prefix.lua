-- expect: error_constructor_prefix.lua:5: vib.gaussian does not exist (did you mean vib.gauss?); docs/dsl.md and docs/sweeps.md list what vib has
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.gaussian { k = 4, name = "z" }, vib.linear { out = 3 } },
}
