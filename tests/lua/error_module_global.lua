-- expect: module_global.lua:3: undefined global 'lenght'
local vib = require "vib"
local m = require "module_global"
