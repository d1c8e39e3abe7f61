-- vib_settings.lua: the settings of an experiment, the one list of them. Each is a top-level key of
-- vib.experiment (vib.experiment { epochs = 20, ... }), part of every resolved point, and, where
-- `set` is true, overridable with --set like a param. vib.experiment's keys, --set's typing, the
-- point's defaults, the "known:" list of an unknown --set key and config.lua's `settings` line are
-- all made from this list; nn_train_cfg_default() (nn/nn_train.c, which cannot read Lua) holds the
-- same defaults, and test_vibrun checks that the two agree.
--
-- Fields: name, type (as vib_core's check_value: "int", "number", "enum:a|b"), the default, and
-- whether --set may change it. Order: the order of config.lua's settings line. config = "given":
-- config.lua lists the setting only when the script or --set names it (a setting added after
-- points were run, so that those points keep their config.lua bytes; a replay of a point that
-- does not name it gets the default again).

local vib, core = ...

local settings = {
  { name = "epochs", type = "int", default = 10, set = true },           -- passes over the training set
  { name = "batch", type = "int", default = 100, set = true },           -- training batch size
  { name = "eval_batch", type = "int", default = 1000, set = true },     -- evaluation batch size (memory only)
  { name = "ema", type = "number", default = 0, set = true },            -- EMA decay of the weights (0: off)
  { name = "seed", type = "int", default = 1, set = true },
  { name = "train_eval_limit", type = "int", default = 0, set = true },  -- training examples evaluated (0: all)
  { name = "checkpoint_every", type = "int", default = 1, set = true },  -- epochs between checkpoints
  { name = "eval_samples", type = "int", default = 0, set = true },      -- z samples at evaluation (0: the mean)
  { name = "eval_passes", type = "int", default = 1, set = true },       -- stochastic evaluations averaged
  { name = "streams", type = core.enum("streams", true), default = "common", set = true },
  { name = "replicates", type = "int", default = 1, set = true },        -- seeds per configuration
  { name = "eval_avg", type = core.enum("eval_avg", true), default = "probs" },
  { name = "ema_mode", type = core.enum("ema_mode", true), default = "debias" },
  -- training batches only: "crop_flip" (CIFAR-10's 4-pixel-padded random crop and mirror)
  { name = "augment", type = core.enum("augment", true), default = "none", set = true, config = "given" },
}

local by_name, settable = {}, {}
for _, s in ipairs(settings) do
  by_name[s.name] = s
  if s.set then settable[s.name] = s.type end
end
core.settings, core.setting, core.settable = settings, by_name, settable
