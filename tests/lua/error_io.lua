-- expect: error_io.lua:3: 'io' is not available in experiment scripts
local vib = require "vib"
io.write("scripts cannot touch files")
