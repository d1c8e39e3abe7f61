-- expect: error_require.lua:2: module 'os' not available: scripts can require "vib" and .lua modules beside them
local os = require "os"
