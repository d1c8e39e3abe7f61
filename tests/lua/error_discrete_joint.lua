-- expect: error_discrete_joint.lua:6: vib.data.discrete: joint [2] has 3 entries but [1] has 2
local vib = require "vib"

return vib.experiment {
  name = "e",
  data = vib.data.discrete { joint = { { 0.4, 0.1 }, { 0.1, 0.2, 0.2 } } },
  model = vib.seq { vib.linear { out = 2 } },
  objective = vib.obj.ce {},
}
