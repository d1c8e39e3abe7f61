-- hsic_mnist.lua: the HSIC bottleneck (Ma, Lewis & Kleijn, AAAI 2020, "The HSIC Bottleneck: Deep
-- Learning without Back-Propagation") written in the script with vib.term.custom, as a regularizer
-- of an MLP trained by back-propagation.
--
-- What it reproduces: the paper's per-layer objective nHSIC(X; Z) - beta nHSIC(Y; Z), the
-- normalized Hilbert-Schmidt independence criterion
--     nHSIC(A; B) = tr(Ka~ Kb~) / sqrt(tr(Ka~ Ka~) tr(Kb~ Kb~)),   K~ = H K H (centred Gram matrix),
-- estimated on each batch, with Gaussian kernels K_ij = exp(-|a_i - a_j|^2 / (2 s^2 d)) on the input
-- X (d = 784 pixels), on the layer Z (d = its width) and on the one-hot labels Y (d = 10): the kernel
-- width grows with sqrt(d) as in the authors' code. What it does not reproduce: the paper trains each
-- layer on its own objective without back-propagation; here the term is added to the cross-entropy
-- of the whole network, loss = CE + lambda (nHSIC(X; Z) - beta nHSIC(Y; Z)), on the layer `layer`.
--
-- What it measures: per epoch, the test error and the two dependences of the regularized layer
-- (columns hsic_x_bits and hsic_y_bits of metrics.csv: nHSIC in [0, 1], divided by ln 2 as every
-- term is logged in bits). With lambda > 0 the layer keeps less dependence on the input and more
-- on the labels than with lambda = 0 (docs/custom-terms.md has the measured numbers).
--
--   vibrun experiments/hsic_mnist.lua                                  lambda = 1, 10 epochs
--   vibrun experiments/hsic_mnist.lua --set lambda=0                   the plain MLP, for comparison
--   vibrun experiments/hsic_mnist.lua --set epochs=1 --set data_dir=data/mnist-t10k --set resplit=0.8
--                                                                      quick, on the MNIST test set (CI)
--   vibrun experiments/hsic_mnist.lua --gradcheck                      the two terms' gradients
local vib = require "vib"

-- The centred Gram matrix H K H of a Gaussian kernel of width s sqrt(d) over the rows of x.
local function centred_gram(x, d, s)
  local k = (x:pdist() * (-0.5 / (s * s * d))):exp()
  return k - k:mean(1, true) - k:mean(2, true) + k:mean()
end
-- nHSIC of two centred Gram matrices: one value per batch.
local function nhsic(ka, kb)
  return (ka * kb):sum() / ((ka * ka):sum() * (kb * kb):sum()):sqrt()
end

return vib.experiment {
  name    = "hsic_mnist",
  description = "HSIC bottleneck (Ma et al. 2020) as a regularizer: CE + lambda (nHSIC(X;Z) - beta nHSIC(Y;Z))",
  data    = function(p)
    return vib.data.mnist { scale = "unit", dir = p.data_dir ~= "" and p.data_dir or nil,
                            resplit_test = p.resplit > 0 and p.resplit or nil }
  end,
  params  = { lambda = 1.0, beta = 2.0, width = 0.5, hidden = 256, layer = "h2", seed = 1, data_dir = "", resplit = 0.0 },
  model   = function(p) return vib.seq {
              vib.linear { out = p.hidden, name = "fc1" }, vib.relu { name = "h1" },
              vib.linear { out = p.hidden, name = "fc2" }, vib.relu { name = "h2" },
              vib.linear { out = 10, name = "logits" } } end,
  objective = function(p)
    local layer = vib.one_of(p.layer, { "h1", "h2" })
    local s = p.width
    local hx = vib.term.custom { name = "hsic_x", per = "batch", value = function(v)
      return nhsic(centred_gram(v.input, 784, s), centred_gram(v[layer], p.hidden, s))
    end }
    local hy = vib.term.custom { name = "hsic_y", per = "batch", value = function(v)
      return nhsic(centred_gram(v.onehot, 10, s), centred_gram(v[layer], p.hidden, s))
    end }
    return vib.term.ce {} + p.lambda * (hx - p.beta * hy)
  end,
  optim   = vib.optim.adam { lr = 1e-3 },
  epochs  = 10, batch = 100,
}
