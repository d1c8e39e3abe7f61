-- expect: error_require_missing.lua:3: require "no_such_module": no module
local vib = require "vib"
local m = require "no_such_module"
