#!/usr/bin/python3
"""write_weights.py DATA.csv OUT.safetensors
   write_weights.py --mnist DIR OUT.safetensors

A model written by another program, in NumPy, saved as safetensors with plain Python under the names
PyTorch's nn.Sequential gives (0.weight, 0.bias, 2.weight, 2.bias; weights (out, in)).

- DATA.csv: a 4 -> 16 tanh -> 3 MLP trained by full-batch gradient descent on the x1..x4,y columns.
  tests/lua/load_mlp.lua imports and measures it.
- --mnist DIR: a 784 -> 64 ReLU -> 10 MLP trained by minibatch SGD on the first 8,000 images of
  DIR/t10k-*-idx*-ubyte.gz (the MNIST test set; vibrun's resplit_test = 0.8 trains on the same
  8,000 and tests on the last 2,000), pixels in [0, 1]. tests/lua/load_mnist.lua imports, measures
  and attacks it. Prints the model's error on the last 2,000 images.
docs/weights.md shows both."""
import gzip, json, struct, sys
import numpy as np


def save_safetensors(path, tensors):
    """u64 header length, JSON header (dtype, shape, data_offsets), then the float32 data"""
    header, blobs, off = {"__metadata__": {"written_by": "write_weights.py"}}, [], 0
    for k, v in tensors.items():
        b = v.astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def softmax_grad(logits, onehot):
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return (p - onehot) / len(onehot)


def csv_mlp(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    x, y = data[:, :4].astype(np.float32), data[:, 4].astype(int)
    rng = np.random.default_rng(1)
    w = {"0.weight": rng.normal(0, 0.5, (16, 4)), "0.bias": np.zeros(16),
         "2.weight": rng.normal(0, 0.5, (3, 16)), "2.bias": np.zeros(3)}
    onehot = np.eye(3)[y]
    for step in range(500):  # full-batch gradient descent on the cross-entropy
        h = np.tanh(x @ w["0.weight"].T + w["0.bias"])
        logits = h @ w["2.weight"].T + w["2.bias"]
        g = softmax_grad(logits, onehot)
        gh = (g @ w["2.weight"]) * (1 - h * h)
        for k, d in (("2.weight", g.T @ h), ("2.bias", g.sum(0)), ("0.weight", gh.T @ x), ("0.bias", gh.sum(0))):
            w[k] -= 0.5 * d
    print("numpy MLP: training error %.3f" % np.mean(logits.argmax(1) != y))
    return w


def mnist_mlp(d):
    with gzip.open(d + "/t10k-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255
    with gzip.open(d + "/t10k-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8).astype(int)
    xtr, ytr, xte, yte = x[:8000], y[:8000], x[8000:], y[8000:]
    rng = np.random.default_rng(1)
    w = {"0.weight": rng.normal(0, np.sqrt(2 / 784), (64, 784)), "0.bias": np.zeros(64),
         "2.weight": rng.normal(0, np.sqrt(1 / 64), (10, 64)), "2.bias": np.zeros(10)}
    for epoch in range(5):  # minibatch SGD, batch 100, on the cross-entropy
        order = rng.permutation(len(xtr))
        for i in range(0, len(xtr), 100):
            xb, yb = xtr[order[i:i + 100]], np.eye(10)[ytr[order[i:i + 100]]]
            a = xb @ w["0.weight"].T + w["0.bias"]
            h = np.maximum(a, 0)
            g = softmax_grad(h @ w["2.weight"].T + w["2.bias"], yb)
            gh = (g @ w["2.weight"]) * (a > 0)
            for k, dk in (("2.weight", g.T @ h), ("2.bias", g.sum(0)), ("0.weight", gh.T @ xb), ("0.bias", gh.sum(0))):
                w[k] -= 0.1 * dk
    logits = np.maximum(xte @ w["0.weight"].T + w["0.bias"], 0) @ w["2.weight"].T + w["2.bias"]
    print("numpy MLP: test error %.4f" % np.mean(logits.argmax(1) != yte))
    return w


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--mnist":
        save_safetensors(sys.argv[3], mnist_mlp(sys.argv[2]))
    elif len(sys.argv) == 3:
        save_safetensors(sys.argv[2], csv_mlp(sys.argv[1]))
    else:
        sys.exit(__doc__)
