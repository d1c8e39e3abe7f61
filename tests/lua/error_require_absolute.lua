-- expect: error_require_absolute.lua:4: require "/etc/passwd": a module is a .lua file beside the script
local vib = require "vib"

local x = require "/etc/passwd"
