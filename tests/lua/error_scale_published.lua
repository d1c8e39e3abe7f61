-- expect: error_scale_published.lua:4: mnist: scale = "channel_published": vibrun knows published per-channel statistics for cifar10 only
local vib = require "vib"
return vib.experiment { name = "e",
  data = vib.data.mnist { scale = "channel_published" },
  model = vib.seq { vib.linear { out = 3 } },
}
