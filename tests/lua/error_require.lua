-- expect: error_require.lua:2: module 'os' not available: scripts can require only "vib"
local os = require "os"
