-- expect: error_sandbox.lua:3: 'os' is not available in experiment scripts
local vib = require "vib"
local t = os.time()
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq { vib.linear { out = 3 } },
}
