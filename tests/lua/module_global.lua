-- module_global.lua: a module that reads an undefined global, for error_module_global.lua.
local vib = require "vib"
return { layers = lenght }
