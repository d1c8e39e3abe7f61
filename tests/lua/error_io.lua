-- expect: error_io.lua:3: undefined global 'io'
local vib = require "vib"
io.write("scripts cannot touch files")
