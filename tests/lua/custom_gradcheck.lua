-- custom_gradcheck.lua: custom terms for `vibrun --gradcheck` (test_expr.c). variant = "ok": a
-- kernel dependence term (the HSIC of the bottleneck and the labels, Gaussian kernel); "mistake":
-- the same with a stop_gradient left on one factor, so the tape's gradient is not the derivative of
-- the value (the check must report a large error); "ops": one term through every op.
local vib = require "vib"

local function hsic(v, mistake)
  local z = v.z
  local n = v.batch_size
  local k = (z:pdist() * -0.5):exp()                          -- (B, B) Gaussian kernel
  local l = v.onehot:matmul(v.onehot:t())                     -- label kernel
  local kc = k - k:mean(1, true) - k:mean(2, true) + k:mean()
  if mistake then kc = k - k:stop_gradient():mean(1, true) - k:mean(2, true) + k:mean() end
  return (kc * l):sum() / (n * n)
end

local function every_op(v)
  local z, lg = v.z, v.logits
  local a = (z:tanh() + z:sigmoid() * 2 - z:softplus() / 3):abs():clamp(0.05, 2):sqrt()
  local b = z:square():sum(2, true):log():exp() + z:max(2, true) - z:logsumexp(2, true)
  local c = (a - b):matmul((z:mean(1, true)):t())             -- (B, 1)
  local d = lg:log_softmax():gather(v.labels) + lg:softmax():max(2)
  return c:sum(2) + d - z:pdist(v.h):sum(2) * 0.01 + v.epoch
end

return vib.experiment {
  name    = "custom_gradcheck",
  data    = vib.data.csv { path = "tiny.csv", holdout = 0.25, scale = "standardize" },
  params  = { variant = "ok", seed = 1 },
  model   = vib.seq { vib.linear { out = 3, name = "h" }, vib.tanh {}, vib.gauss { k = 3, name = "z" },
                      vib.linear { out = 3 } },
  objective = function(p)
    local variant = vib.one_of(p.variant, { "ok", "mistake", "ops" })
    local r = vib.term.custom { name = "r", per = variant ~= "ops" and "batch" or "example", value = function(v)
      if variant == "ops" then return every_op(v) end
      return hsic(v, variant == "mistake")
    end }
    return vib.term.ce {} + 0.1 * r
  end,
  epochs  = 1, batch = 25,
}
