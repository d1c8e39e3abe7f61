-- expect: error_global.lua:4: undefined global 'hiden'
local vib = require "vib"
local p = { hidden = 10 }
local n = hiden
return vib.experiment { name = "e", data = vib.data.csv { path = "tiny.csv" }, model = vib.seq { vib.linear { out = n } } }
