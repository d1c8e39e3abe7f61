#!/usr/bin/python3
"""check_weights.py EXPECTED.txt FILE.safetensors FILE.npz...: reads vibrun's weight files with
NumPy and plain Python, and checks every tensor's name, shape and float32 bits against EXPECTED.txt
(one line per tensor: name, ndim, the shape, the values as C's %a hex floats). test_weights.c runs it;
it prints "ok: N tensors" or fails with the first difference."""
import json, struct, sys, zipfile, io
import numpy as np


def read_safetensors(path):  # the whole format, in plain Python and numpy.frombuffer
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = b[8 + n:]
    dtypes = {"F32": "<f4", "F64": "<f8", "F16": "<f2"}
    out = {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype=dtypes[v["dtype"]])
              .reshape(v["shape"]) for k, v in header.items()}
    return out, meta


def expected(path):
    want = {}
    for line in open(path):
        f = line.split()
        ndim = int(f[1])
        shape = tuple(int(x) for x in f[2:2 + ndim])
        want[f[0]] = np.array([float.fromhex(x) for x in f[2 + ndim:]], dtype=np.float32).reshape(shape)
    return want


def same(name, got, want, where):
    if got.shape != want.shape or got.dtype != np.float32 or got.tobytes() != want.tobytes():
        sys.exit("%s: %s is %s %s %s, expected %s %s" % (where, name, got.dtype, got.shape, got.ravel()[:4],
                                                        want.shape, want.ravel()[:4]))


want = expected(sys.argv[1])
st, meta = read_safetensors(sys.argv[2])
if sorted(st) != sorted(want):
    sys.exit("%s: tensors %s, expected %s" % (sys.argv[2], sorted(st), sorted(want)))
for k in want:
    same(k, st[k], want[k], sys.argv[2])
for path in sys.argv[3:]:
    z = np.load(path)  # allow_pickle stays False: plain arrays only
    names = [k for k in z.files if k != "__metadata__"]
    if sorted(names) != sorted(want):
        sys.exit("%s: arrays %s, expected %s" % (path, sorted(names), sorted(want)))
    for k in want:
        same(k, z[k], want[k], path)
    if meta and json.loads(str(z["__metadata__"])) != meta:
        sys.exit("%s: __metadata__ %s differs from the safetensors file's %s" % (path, z["__metadata__"], meta))
    # each .npy entry holds the bytes numpy.save writes for the same array
    with zipfile.ZipFile(path) as zf:
        for k in want:
            ref = io.BytesIO()
            np.save(ref, want[k])
            if zf.read(k + ".npy") != ref.getvalue():
                sys.exit("%s: %s.npy differs from numpy.save's bytes" % (path, k))
print("ok: %d tensors in %d files" % (len(want), len(sys.argv) - 2))
