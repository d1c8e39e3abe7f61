-- expect: error_not_experiment.lua: the script must return vib.experiment { ... } (it returned table)
local vib = require "vib"
return { name = "e" }
