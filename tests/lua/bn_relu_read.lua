-- bn_relu_read.lua: a batch norm followed by a ReLU whose own output a term and a measurement read.
-- In a training step the two layers run as one op unless a term keeps the batch norm's output;
-- evaluation, measurement and --gradcheck run without a keep list and must not fuse them
-- (tests/test_vibrun.c).
local vib = require "vib"
local act = vib.term.custom { name = "act", value = function(v) return (v.bn ^ 2):sum(2) end }
return vib.experiment {
  name = "bn_relu_read",
  data = vib.data.discrete { joint = { { 1, 2 }, { 2, 1 }, { 3, 1 }, { 1, 3 } }, n = 256, test_n = 64 },
  model = vib.seq { vib.linear { out = 8 }, vib.batchnorm { name = "bn" }, vib.relu {}, vib.linear { out = 2 } },
  objective = vib.term.ce {} + 1e-3 * act,
  epochs = 2, batch = 32,
  measure = { layers = { "bn" }, estimators = { "binning" } },
}
