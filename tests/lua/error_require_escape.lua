-- expect: error_require_escape.lua:3: require "../experiments/vib_common": a module is a .lua file beside the script, named without directory or extension (letters, digits, _), e.g. require "vib_common" for vib_common.lua; "vib" is the DSL
local vib = require "vib"
local common = require "../experiments/vib_common"
