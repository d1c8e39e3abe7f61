-- long_key.lua: two points whose resolved configurations differ only after 9,000 characters of a
-- string param (their seeds; test_runner.c: they get two ids: the key was cut at 8 KiB before
-- hashing, and both points were given one directory).
local vib = require "vib"

return vib.experiment {
  name    = "long_key",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25 },
  params  = { aaa = string.rep("x", 9000), seed = 1 },
  model   = function(p) return vib.seq { vib.linear { out = 4 + 0 * #p.aaa }, vib.tanh {},
                                          vib.linear { out = 3 } } end,
  epochs  = 1,
  sweep   = vib.grid { seed = { 1, 2 } },
}
