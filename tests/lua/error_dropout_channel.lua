-- expect: error_dropout_channel.lua:6: dropout 'drop': per_channel drops whole channels of a (C, H, W) map, but the input is 4 flat features; remove per_channel
local vib = require "vib"
return vib.experiment {
  name = "e", data = vib.data.csv { path = "tiny.csv" },
  model = vib.seq {
    vib.dropout { p = 0.5, per_channel = true, name = "drop" },
    vib.linear { out = 3 },
  },
}
