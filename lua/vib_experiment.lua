-- vib_experiment.lua: what a point trains with besides its model and objective: optimizers
-- (vib.optim.*), data sets (vib.data.*), information-plane measurements (vib.measure), figures
-- (vib.plot.*); and vib.experiment, which ties them together, and vib.point (config.lua).
-- Loaded by vib.lua.

local vib, core = ...
local fail_at = core.fail_at
local fields = core.fields
local source_where = core.source_where
local sorted_keys = core.sorted_keys
local is_int = core.is_int
local with = core.with

-- ---- optimizers -----------------------------------------------------------------------------

vib.optim = {}
local sched = { lr = "number?", weight_decay = "number?", clip = "number?",
                schedule = core.enum("lr_schedule"), decay = "number?", decay_every = "number?",
                milestones = "list:int?", gamma = "number?", lr_min = "number?" }
local function optim(kind, extra)
  return function(t)
    local o = fields("vib.optim." .. kind, t or {}, with(sched, extra), "optim")
    o.kind = kind
    if o.schedule == nil and o.decay ~= nil then o.schedule = "exp" end
    return o
  end
end
vib.optim.sgd = optim("sgd", { momentum = "number?", nesterov = "bool?" })
vib.optim.adam = optim("adam", { beta1 = "number?", beta2 = "number?", eps = "number?" })
vib.optim.adamw = optim("adamw", { beta1 = "number?", beta2 = "number?", eps = "number?" })
vib.optim.adamax = optim("adamax", { beta1 = "number?", beta2 = "number?", eps = "number?" })

-- ---- data -----------------------------------------------------------------------------------

vib.data = {}
-- shape: one example's { C, H, W } (or { H, W }: one channel; { F }: flat features), overriding the
-- data set's (cifar10 3x32x32, mnist and fashion-mnist 1x28x28, csv and tishby flat): what
-- convolutional layers read; the product must be the features per example.
local common = { dir = "string?", scale = core.enum("scale"), train_limit = "int?",
                 test_limit = "int?", shape = "list:int?" }
local function dataset(name, extra)
  return function(t)
    local d = fields("vib.data." .. name:gsub("-", "_"), t or {}, with(common, extra), "data")
    d.name = name
    return d
  end
end
vib.data.mnist = dataset("mnist", { resplit_test = "number?" })
vib.data.fashion_mnist = dataset("fashion-mnist", { resplit_test = "number?" })
vib.data.cifar10 = dataset("cifar10", { resplit_test = "number?" })
-- The Shwartz-Ziv & Tishby 12-bit task: 4,096 patterns, a seeded train/test shuffle (split_seed,
-- by default the point's seed; train_fraction 0.8 as the authors; shuffle = false takes the first
-- rows of the file, as the authors' code). Inputs are 0/1: scale "none".
vib.data.tishby = dataset("tishby", { train_fraction = "number?", split_seed = "int?", shuffle = "bool?" })
vib.data.csv = dataset("csv", { path = "string", test = "string?", label = "string?", holdout = "number?" })
-- A problem drawn from a discrete joint p(x, y): joint is a table of rows, one per x, of weights, one
-- per y ({ { 0.225, 0.025 }, { 0.175, 0.075 } }), or names a CSV file of them (the file `vibrun
-- ib-curve --joint` reads); n training and test_n test examples (4,000 and 1,000 by default) drawn
-- from `seed` (by default the point's), x one-hot. Each point writes the problem's exact IB curve
-- beside its results (ib_exact.csv), which the IB-curve figure draws.
local discrete = dataset("discrete", { joint = "any", n = "int?", test_n = "int?", seed = "int?" })
function vib.data.discrete(t)
  local d = discrete(t)
  local fn, j = "vib.data.discrete", d.joint
  local function bad(msg) fail_at(fn, "joint", fn .. ": joint " .. msg) end
  if type(j) == "table" then
    if #j < 1 then bad("is an empty table; give one row per x, e.g. { { 0.4, 0.1 }, { 0.1, 0.4 } }") end
    for i, row in ipairs(j) do
      if type(row) ~= "table" or #row < 1 then bad(string.format("[%d] must be a row of numbers, one per y", i)) end
      if #row ~= #j[1] then bad(string.format("[%d] has %d entries but [1] has %d", i, #row, #j[1])) end
      for k, v in ipairs(row) do
        if type(v) ~= "number" or v < 0 or v ~= v or v == math.huge then
          bad(string.format("[%d][%d] = %s must be a finite number >= 0", i, k, tostring(v)))
        end
      end
    end
  elseif type(j) ~= "string" then
    bad("must be a table of rows or the name of a CSV file, got " .. type(j))
  end
  return d
end

-- ---- information-plane measurements ---------------------------------------------------------

local estimators = core.choice_names.estimator
local default_estimators = { "variational", "kde", "binning", "plugin" }

-- measure = { layers = "all" | {names}, estimators = "all" | {names}, every = "epoch" | "log2" |
-- k | {epochs}, split = "both" | "train" | "test" | {splits}, samples = N, kde_var, bins, range =
-- {lo, hi}, bin_size, k, plugin_samples, selfcheck = true, spatial = "gap" | "flat",
-- audit = true | { bootstrap = B } }: what
-- nn_measure.h computes, normalized here. spatial: how a layer with a (C, H, W) output is measured,
-- as its C global-average-pooled channels (the default) or its C*H*W features flattened. selfcheck writes selfcheck.csv: each estimator on known-MI tasks at the layers' sizes.
-- audit adds each estimate's bootstrap interval (B resamples, 20 by default), shuffle control and
-- info_audit.csv (nn_measure.h); absent or false, nothing changes.
function vib.measure(t)
  if vib.kind(t) == "measure" then return t end
  local fn = "measure"
  local m = fields(fn, t or {}, { layers = "any?", estimators = "any?", every = "any?", split = "any?",
                                  samples = "int?", kde_var = "number?", bins = "int?", range = "list:number?",
                                  bin_size = "number?", k = "int?", plugin_samples = "int?",
                                  selfcheck = "bool?", spatial = core.enum("spatial"), audit = "any?" }, "measure")
  local function bad(key, msg) fail_at(fn, key, fn .. ": " .. msg) end
  local function names(key, v, all, known)
    if v == nil or v == "all" then return all end
    if type(v) == "string" then v = { v } end
    if type(v) ~= "table" or #v == 0 then bad(key, string.format("'%s' must be \"all\" or a list of names", key)) end
    local ok = {}
    for _, x in ipairs(known or {}) do ok[x] = true end
    for _, x in ipairs(v) do
      if type(x) ~= "string" then bad(key, string.format("'%s' lists names (strings), got %s", key, type(x))) end
      if known and not ok[x] then
        bad(key, string.format("unknown %s '%s'; known: %s", key == "split" and "split" or "estimator", x,
                               table.concat(known, ", ")))
      end
    end
    return v
  end
  local est = m.estimators == nil and default_estimators or names("estimators", m.estimators, estimators, estimators)
  m.layers = names("layers", m.layers, {})
  m.estimators_listed = type(m.estimators) == "table"   -- named one by one: each must apply somewhere
  m.estimators = est
  local split = m.split
  if split == nil or split == "both" then split = { "train", "test" } end
  m.split = names("split", split, nil, core.choice_names.split)
  local every = m.every == nil and "epoch" or m.every
  m.every = nil
  if every == "epoch" or every == "log2" then m.every_kind = every
  elseif is_int(every) and every >= 1 then m.every_kind, m.every_k = "k", math.tointeger(every)
  elseif type(every) == "table" and #every > 0 then
    m.every_kind, m.epochs = "list", {}
    for i, e in ipairs(every) do
      if not is_int(e) or e < 0 then bad("every", string.format("every[%d] = %s: epochs are integers >= 0", i, tostring(e))) end
      m.epochs[i] = math.tointeger(e)
    end
  else
    bad("every", "'every' must be \"epoch\", \"log2\", a number of epochs k >= 1, or a list of epochs")
  end
  if m.samples and m.samples < 0 then bad("samples", "'samples' must be >= 0 (0 = every example)") end
  if m.kde_var and not (m.kde_var > 0) then bad("kde_var", "'kde_var' (the noise variance of deterministic layers) must be > 0") end
  if m.bins and m.bins < 1 then bad("bins", "'bins' must be >= 1") end
  if m.range and not (#m.range == 2 and m.range[1] < m.range[2]) then bad("range", "'range' must be { lo, hi } with lo < hi") end
  if m.bin_size and not (m.bin_size > 0) then bad("bin_size", "'bin_size' must be > 0") end
  if m.k and m.k < 1 then bad("k", "'k' (neighbours) must be >= 1") end
  if m.plugin_samples and m.plugin_samples < 1 then bad("plugin_samples", "'plugin_samples' must be >= 1") end
  local audit = m.audit
  if audit == false then m.audit = nil
  elseif audit == true then m.audit, m.audit_bootstrap = true, 20
  elseif type(audit) == "table" then
    for key, v in pairs(audit) do
      if key ~= "bootstrap" then bad("audit", string.format("audit: unknown key '%s'; known: bootstrap", tostring(key))) end
    end
    local b = audit.bootstrap == nil and 20 or audit.bootstrap
    if not is_int(b) or b < 2 then bad("audit", "audit.bootstrap (resamples per estimate) must be an integer >= 2") end
    m.audit, m.audit_bootstrap = true, math.tointeger(b)
  elseif audit ~= nil then
    bad("audit", "'audit' must be true, false or { bootstrap = B }")
  end
  return m
end
-- ---- the experiment -------------------------------------------------------------------------

-- The keys of vib.experiment: its parts, and the settings (vib_settings.lua), each optional.
local experiment_spec = {
  name = "string", data = "any", params = "table?", model = "any", objective = "any?",
  optim = "any?", sweep = "table?", plots = "table?", description = "string?", measure = "any?",
  init = "any?",
  attack = "any?",
}
for _, st in ipairs(core.settings) do experiment_spec[st.name] = st.type .. "?" end

function vib.experiment(t)
  local e = fields("vib.experiment", t, experiment_spec, "experiment")
  local function fail_key(key, msg) fail_at("vib.experiment", key, msg) end
  if not e.name:match("^[%w_%-%.]+$") then
    fail_key("name", "vib.experiment: name '" .. e.name .. "' may hold only letters, digits, '_', '-' and '.' (it names a directory)")
  end
  if e.name:sub(1, 1) == "." then   -- ".", "..": the output root or its parent; ".x": a hidden directory
    fail_key("name", "vib.experiment: name '" .. e.name .. "' starts with '.'; it names the run's directory under --out, so it must start with a letter, digit, '_' or '-'")
  end
  if type(e.data) ~= "function" and vib.kind(e.data) ~= "data" then
    fail_key("data", "vib.experiment: 'data' must be a data set, e.g. vib.data.fashion_mnist {}, or a function(p) returning one")
  end
  local mk = type(e.model) == "function" and "function" or vib.kind(e.model)
  if mk ~= "function" and mk ~= "seq" and mk ~= "layer" then
    fail_key("model", "vib.experiment: 'model' must be vib.seq { ... } or a function(p) returning one")
  end
  if e.optim and type(e.optim) ~= "function" and vib.kind(e.optim) ~= "optim" then
    fail_key("optim", "vib.experiment: 'optim' must be vib.optim.adam { ... } (or another vib.optim.*) or a function(p) returning one")
  end
  if e.measure ~= nil and type(e.measure) ~= "function" then
    if type(e.measure) ~= "table" then fail_key("measure", "vib.experiment: 'measure' must be a table { layers = ..., estimators = ..., every = ... } or a function(p) returning one") end
    e.measure = vib.measure(e.measure)
  end
  if e.init ~= nil and type(e.init) ~= "function" and vib.kind(e.init) ~= "load" then
    fail_key("init", "vib.experiment: 'init' must be vib.load { path = ... } or a function(p) returning one")
  end
  if e.attack ~= nil and type(e.attack) ~= "function" then e.attack = vib.attack_block(e.attack) end
  if e.sweep and vib.kind(e.sweep) ~= "sweep" then
    fail_key("sweep", "vib.experiment: 'sweep' must be vib.grid { ... }, vib.list, vib.zip, vib.random or a composition of them")
  end
  if e.replicates and e.replicates < 1 then fail_key("replicates", "vib.experiment: replicates must be >= 1") end
  e.param_where = {}
  for k, v in pairs(e.params or {}) do
    if type(k) ~= "string" then fail_key("params", "vib.experiment: params must be named (k = 256, beta = 1e-3)") end
    local ty = type(v)
    if ty ~= "number" and ty ~= "string" and ty ~= "boolean" and ty ~= "function" then
      fail_key(k, string.format("vib.experiment: param '%s' is a %s; params are numbers, strings, booleans or functions of the point (derived)", k, ty))
    end
    e.param_where[k] = source_where("experiment", k)
  end
  if e.plots then
    for i, p in ipairs(e.plots) do
      if vib.kind(p) ~= "plot" then fail_key("plots", string.format("vib.experiment: plots[%d] is not a plot (vib.plot.*)", i)) end
      if p.axis and e.params and e.params[p.axis] == nil then
        local known = sorted_keys(e.params)
        error(string.format("%s: vib.plot.%s: '%s' is not a param of the experiment; params: %s", p.where,
                            p.kind, p.axis, table.concat(known, ", ")), 0)
      end
    end
  end
  return e
end

-- ---- plots ----------------------------------------------------------------------------------

-- Figures drawn by gnuplot into runs/<exp>/plots/ at the end of a run, each with its .gp script
-- (README, "Figures"). Every plot takes name (the file name without extension), title, formats
-- ({"png", "svg", "pdf"}; default png and svg, or VIB_PLOT_FORMATS) and width, height (inches).
-- Without `plots`, a run draws the training curve and what its CSV allows; with `plots`, the
-- training curve and the declared figures.
vib.plot = {}
local plot_common = { name = "string?", title = "string?", formats = "list:enum:png|svg|pdf?",
                      width = "number?", height = "number?" }
local estimators = "enum:variational|kde_upper|kde_lower|binning|ksg|plugin"
local function plot(kind, extra, positional)
  return function(t)
    local fn = "vib.plot." .. kind
    if positional and type(t) == "table" and t[1] ~= nil then
      -- error_vs { "beta", ... }: the swept param first
      local copy = {}
      for k, v in pairs(t) do if k ~= 1 then copy[k] = v end end
      if copy[positional] ~= nil then fail_at(fn, positional, fn .. ": the " .. positional .. " is given twice") end
      copy[positional] = t[1]
      t = copy
    end
    local p = fields(fn, t or {}, with(plot_common, extra), "plot")
    p.kind = kind
    for _, k in ipairs({ "width", "height" }) do
      if p[k] and not (p[k] > 0 and p[k] <= 20) then fail_at(fn, k, string.format("%s: %s=%g must be in (0, 20] inches", fn, k, p[k])) end
    end
    for _, k in ipairs({ "points", "ellipses" }) do
      if p[k] and p[k] < 0 then fail_at(fn, k, string.format("%s: %s=%d must be >= 0", fn, k, p[k])) end
    end
    if p.name and not p.name:match("^[%w_%-%.=]+$") then
      fail_at(fn, "name", fn .. ": name '" .. p.name .. "' may hold only letters, digits and _ - . = (it names files)")
    end
    return p
  end
end
-- loss and error per epoch, train and test: the figure every run draws
vib.plot.training_curve = plot("training_curve", {})
-- I(Z;Y) against I(X;Z) per layer and epoch, one figure per point with an info.csv; filters
-- layers, estimators, splits; per_layer = true: one panel per layer (multi-bottleneck networks)
vib.plot.info_plane = plot("info_plane", { layers = "list:string?", estimators = "list:" .. estimators .. "?",
                                           splits = "list:enum:train|test?", per_layer = "bool?" })
-- final I(Z;Y) against I(X;Z) over a sweep (summary.csv), coloured by the swept param `axis`
vib.plot.ib_curve = plot("ib_curve", { axis = "string?", layer = "string?", estimator = estimators .. "?",
                                       splits = "list:enum:train|test?" })
-- error (and I(X;Z), I(Z;Y) unless info = false) against the swept param: vib.plot.error_vs { "beta" }
vib.plot.error_vs = plot("error_vs", { axis = "string?", layer = "string?", estimator = estimators .. "?",
                                       splits = "list:enum:train|test?", info = "bool?" }, "axis")
-- the 2-D latent of a K = 2 model: the first `points` test points, `ellipses` of them with their ellipse
vib.plot.latent = plot("latent", { points = "int?", ellipses = "int?" })
-- config.lua: the resolved point, replayable with `vibrun config.lua`.
function vib.point(t)
  local p = fields("vib.point", t, { script = "string", params = "table", settings = "table?" }, "point")
  return p
end
