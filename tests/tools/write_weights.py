#!/usr/bin/python3
"""write_weights.py DATA.csv OUT.safetensors: a model written by another program. Trains a small MLP
(4 -> 16 tanh -> 3, the names PyTorch's nn.Sequential gives: 0.weight, 0.bias, 2.weight, 2.bias,
weights (out, in)) with NumPy on the x1..x4,y columns of DATA.csv, and writes it as safetensors
with plain Python. tests/lua/load_mlp.lua imports and measures it with vibrun (docs/weights.md)."""
import json, struct, sys
import numpy as np

data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
x, y = data[:, :4].astype(np.float32), data[:, 4].astype(int)
rng = np.random.default_rng(1)
w = {"0.weight": rng.normal(0, 0.5, (16, 4)), "0.bias": np.zeros(16),
     "2.weight": rng.normal(0, 0.5, (3, 16)), "2.bias": np.zeros(3)}
onehot = np.eye(3)[y]
for step in range(500):  # full-batch gradient descent on the cross-entropy
    h = np.tanh(x @ w["0.weight"].T + w["0.bias"])
    logits = h @ w["2.weight"].T + w["2.bias"]
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    g = (p - onehot) / len(x)
    gh = (g @ w["2.weight"]) * (1 - h * h)
    for k, d in (("2.weight", g.T @ h), ("2.bias", g.sum(0)), ("0.weight", gh.T @ x), ("0.bias", gh.sum(0))):
        w[k] -= 0.5 * d
print("numpy MLP: training error %.3f" % np.mean(logits.argmax(1) != y))

# safetensors: u64 header length, JSON header (dtype, shape, data_offsets), the float32 data
header, blobs, off = {"__metadata__": {"written_by": "write_weights.py"}}, [], 0
for k, v in w.items():
    b = v.astype("<f4").tobytes()
    header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
text = json.dumps(header).encode()
with open(sys.argv[2], "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
