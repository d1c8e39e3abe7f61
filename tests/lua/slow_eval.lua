-- slow_eval.lua: one point of one training step whose evaluations take over a second (512 passes
-- of 64 samples; at 128 they took 0.34 s, and the test's Ctrl-C, sent 0.3 s after epoch 0's rows,
-- now and then came after the run had ended), for test_runner.c: a Ctrl-C that lands in the last
-- evaluation, after the last step.
local vib = require "vib"

return vib.experiment {
  name    = "slow_eval",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "standardize" },
  params  = { seed = 1 },
  model   = vib.seq { vib.linear { out = 32 }, vib.tanh {}, vib.gauss { k = 16, name = "z" },
                      vib.linear { out = 3 } },
  objective = vib.obj.vib { beta = 0.01 },
  optim   = vib.optim.adam { lr = 0.01 },
  epochs  = 1, batch = 300, eval_samples = 64, eval_passes = 512,
}
