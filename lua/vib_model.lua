-- vib_model.lua: the layers of a model (vib.linear, vib.gauss, ...) and vib.seq. Loaded by vib.lua.

local vib, core = ...
local TAG = core.TAG
local fail = core.fail
local fields = core.fields
local user_where = core.user_where
local is_int = core.is_int
local enum = core.enum

-- ---- layers ---------------------------------------------------------------------------------

local function layer(kind, spec)
  spec.name = "string?"
  return function(t)
    local l = fields("vib." .. kind, t or {}, spec, "layer")
    l.kind = kind
    return l
  end
end

vib.linear = layer("linear", { out = "int", ["in"] = "int?", bias = "bool?",
                               init = enum("init"), std = "number?" })
vib.relu = layer("relu", {})
vib.tanh = layer("tanh", {})
vib.sigmoid = layer("sigmoid", {})
vib.softplus = layer("softplus", {})
-- per_channel: drop whole channels of a (C, H, W) input (spatial dropout, Tompson et al. 2015).
vib.dropout = layer("dropout", { p = "number", per_channel = "bool?" })
-- The stochastic Gaussian encoder p(z|x) = N(mu(x), diag sigma(x)^2): mean and scale heads on its
-- input, sigma = softplus(rho + shift) (or exp), z = mu + sigma * eps with `samples` draws per input.
-- sigma = "unit" drops the scale head (sigma = 1: the encoder of variational CEB).
-- cov = "full": Cov = L L^T, L lower-triangular with a positive diagonal (small k, as VIB's k = 2).
vib.gauss = layer("gauss", { k = "int", sigma = enum("sigma"), shift = "number?", samples = "int?",
                             cov = enum("cov"),
                             init = enum("init"), std = "number?" })
-- Binary stochastic neurons p = sigmoid(W x + b), z ~ Bern(p), `particles` draws per incoming
-- particle (nested, as the IMB code); gradient "st" (straight-through, Raiko et al.) or
-- "concrete" (binary Concrete at `temperature`); evaluation uses eval_samples particles, or the
-- mean-field network p when eval_samples = 0.
vib.bern = layer("bern", { units = "int", particles = "int?", grad = enum("grad"), temperature = "number?",
                           init = enum("init"), std = "number?" })
-- Additive Gaussian noise z = x + std * eps in training; std defaults to zero-entropy noise
-- (2 pi e)^-1/2, whose differential entropy is 0 (Kirsch et al.).
vib.noise = layer("noise", { std = "number?" })

-- The layers of a list element (a layer or a vib.seq) appended to out; fn names the caller.
local function append_layers(out, v, fn, i)
  local kind = vib.kind(v)
  if kind == "seq" then
    for _, inner in ipairs(v) do out[#out + 1] = inner end
  elseif kind == "layer" then
    out[#out + 1] = v
  else
    fail(string.format("%s: element %d is not a layer (got %s); use vib.linear{...}, vib.relu{}, ...", fn, i,
                       kind or type(v)))
  end
end

function vib.seq(t)
  if type(t) ~= "table" then fail("vib.seq expects a list of layers, e.g. vib.seq { vib.linear { out = 10 } }") end
  local s = { [TAG] = "seq", where = user_where() }
  for k, v in pairs(t) do
    if not is_int(k) then fail(string.format("vib.seq: unexpected key '%s'; vib.seq takes a list of layers", tostring(k))) end
  end
  for i, l in ipairs(t) do append_layers(s, l, "vib.seq", i) end
  if #s == 0 then fail("vib.seq: the model has no layers") end
  return s
end

-- ---- convolutional layers (docs/models.md) --------------------------------------------------

-- kernel, stride, padding, dilation: an integer, or { rows, columns }. in = the input channels
-- (checked; inferred when absent), out = the output channels. init defaults to "he" (He et al.'s
-- normal, fan in; PyTorch's own default is init = "default", U(-1/sqrt(fan_in), 1/sqrt(fan_in))).
local conv_keys = { out = "int", ["in"] = "int?", kernel = "int2", stride = "int2?", padding = "int2?",
                    dilation = "int2?", groups = "int?", bias = "bool?", init = enum("init"), std = "number?" }
vib.conv = layer("conv", conv_keys)
vib.conv_transpose = layer("conv_transpose", core.with(conv_keys, { output_padding = "int2?" }))
-- stride defaults to the kernel (PyTorch's pools); max pooling pads with -inf, average pooling
-- leaves the padding out of each window's count.
vib.maxpool = layer("maxpool", { kernel = "int2", stride = "int2?", padding = "int2?" })
vib.avgpool = layer("avgpool", { kernel = "int2", stride = "int2?", padding = "int2?" })
-- (C, H, W) -> C features: the mean of each channel.
vib.global_avgpool = layer("global_avgpool", {})
-- (C, H, W) -> C*H*W features, channel-major (linear, gauss and bern layers do this themselves).
vib.flatten = layer("flatten", {})
-- Batch normalization: per channel (per feature on flat input), batch statistics in training and
-- running statistics (r = (1 - momentum) r + momentum * batch, PyTorch's convention) in evaluation.
vib.batchnorm = layer("batchnorm", { momentum = "number?", eps = "number?", affine = "bool?" })
-- Group normalization (Wu & He 2018) per example over groups of channels; layernorm is one group:
-- per example over (C, H, W), or over the features of a flat input (LayerNorm).
vib.groupnorm = layer("groupnorm", { groups = "int", eps = "number?", affine = "bool?" })
vib.layernorm = layer("layernorm", { eps = "number?", affine = "bool?" })

-- vib.residual { body layers..., shortcut = "A" | "B" | layers, name = ... }: y = body(x) + shortcut(x).
-- The shortcut is the identity when the body keeps the shape; when it does not, "A" subsamples by
-- the stride and zero-pads the new channels (no parameters), "B" is a 1x1 convolution with the
-- stride and a batch norm (He et al. 2016), and a layer or vib.seq is used as given. A vib.seq
-- whose first entry is the block's marker (kind "residual", with the sizes of body and shortcut).
function vib.residual(t)
  local fn = "vib.residual"
  if type(t) ~= "table" then fail(fn .. " expects a list of layers, e.g. vib.residual { vib.conv { out = 16, kernel = 3, padding = 1 } }") end
  local named = { shortcut = true, name = true, init = true }
  for k, v in pairs(t) do
    if not is_int(k) and not named[k] then
      local known, hint = core.known_keys(tostring(k), named, "")
      fail(string.format("%s: unknown key '%s'; known keys: %s%s (and the body's layers, as a list)", fn, tostring(k),
                         known, hint))
    end
  end
  local marker = fields(fn, { name = t.name, init = t.init }, { name = "string?", init = enum("init") }, "layer")
  marker.kind = "residual"
  local body, short = {}, {}
  for i, l in ipairs(t) do append_layers(body, l, fn, i) end
  if #body == 0 then fail(fn .. ": the block has no body; give it layers") end
  local sc = t.shortcut
  if type(sc) == "string" then
    if sc ~= "A" and sc ~= "B" then
      fail(string.format("%s: shortcut = \"%s\" is not one of A, B (or layers: a vib.seq)", fn, sc))
    end
    marker.shortcut = sc
  elseif sc ~= nil then
    append_layers(short, sc, fn .. ": shortcut", 1)
  end
  marker.nbody, marker.nshort = #body, #short
  local s = { [TAG] = "seq", where = marker.where, marker }
  for _, l in ipairs(body) do s[#s + 1] = l end
  for _, l in ipairs(short) do s[#s + 1] = l end
  return s
end

-- vib.resnet { depth = 20 | 32 | 44 | 56 | 110 (6n+2) | 18, width, shortcut, classes, prefix }:
-- the CIFAR ResNets of He et al. (2016): a 3x3 stem, three stages of n basic blocks at width,
-- 2 width, 4 width channels (width 16), strides 1, 2, 2, global average pooling, a linear
-- classifier; shortcut "A" by default (as the paper's CIFAR nets). depth = 18: the CIFAR ResNet-18
-- (3x3 stem without max pooling, four stages of two blocks at 64..512 channels, shortcut "B").
-- classes = 0 leaves the classifier out (the trunk ends in the pooled features, for a bottleneck).
function vib.resnet(t)
  local r = fields("vib.resnet", t or {}, { depth = "int", width = "int?", shortcut = "string?", classes = "int?",
                                             prefix = "string?" }, "resnet")
  local d = r.depth
  local blocks
  if d == 18 then
    blocks = { 2, 2, 2, 2 }
  elseif d >= 8 and (d - 2) % 6 == 0 then
    local n = (d - 2) // 6
    blocks = { n, n, n }
  else
    fail(string.format("vib.resnet: depth = %d is not 18 or 6n+2 (20, 32, 44, 56, 110)", d))
  end
  local width = r.width or (d == 18 and 64 or 16)
  local shortcut = r.shortcut or (d == 18 and "B" or "A")
  if shortcut ~= "A" and shortcut ~= "B" then
    fail(string.format("vib.resnet: shortcut = \"%s\" is not one of A, B", shortcut))
  end
  if width < 1 then fail(string.format("vib.resnet: width = %d must be >= 1", width)) end
  local classes = r.classes or 10
  local pre = r.prefix or ""
  local s = { vib.conv { out = width, kernel = 3, padding = 1, bias = false, name = pre .. "conv1" },
              vib.batchnorm { name = pre .. "bn1" }, vib.relu { name = pre .. "relu1" } }
  for st, n in ipairs(blocks) do
    local ch = width << (st - 1)
    for b = 1, n do
      local id = string.format("%ss%db%d", pre, st, b)
      local stride = (st > 1 and b == 1) and 2 or 1
      s[#s + 1] = vib.residual {
        vib.conv { out = ch, kernel = 3, stride = stride, padding = 1, bias = false, name = id .. "_conv1" },
        vib.batchnorm { name = id .. "_bn1" }, vib.relu { name = id .. "_relu1" },
        vib.conv { out = ch, kernel = 3, padding = 1, bias = false, name = id .. "_conv2" },
        vib.batchnorm { name = id .. "_bn2" },
        shortcut = shortcut, name = id }
      s[#s + 1] = vib.relu { name = id .. "_relu" }
    end
  end
  s[#s + 1] = vib.global_avgpool { name = pre .. "pool" }
  if classes > 0 then s[#s + 1] = vib.linear { out = classes, name = pre .. "fc" } end
  return vib.seq(s)
end

-- vib.load { path = "model.safetensors", map = { h1 = "encoder.0", ["z.mu.weight"] = "mu.w" },
-- layers = { "h1", "h2" } }: the experiment's `init`, weights a point starts from instead of its
-- initializers (docs/weights.md). A safetensors or .npz file, told by its first bytes; map renames
-- (a model tensor, or a layer as the prefix of its tensors, to the file's name for it); layers loads
-- those layers only (the rest drawn as usual), else every tensor of the model must be in the file
-- and every tensor of the file used. vibrun checks names and shapes when it builds the point, and
-- the file's SHA-256 is part of the point id.
function vib.load(t)
  local fn = "vib.load"
  local l = fields(fn, t or {}, { path = "string", map = "table?", layers = "list:string?" }, "load")
  if l.path == "" then core.fail_at(fn, "path", fn .. ": path is empty; give the weights file") end
  for k, v in pairs(l.map or {}) do
    if type(k) ~= "string" or type(v) ~= "string" or k == "" or v == "" then
      core.fail_at(fn, "map", string.format("%s: map pairs a model name with the file's, both strings (map = { h1 = "
                   .. "\"encoder.0\" }), got %s = %s", fn, tostring(k), tostring(v)))
    end
  end
  return l
end
