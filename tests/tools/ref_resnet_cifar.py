#!/usr/bin/python3
"""ref_resnet_cifar.py: an independent ResNet-20 on CIFAR-10 in PyTorch, the second implementation
that vibrun's ResNet-20 is compared with (accuracy on the same data, training images/s on the same
CPU). A measurement tool, not part of vibrun, its build or its CI: it needs Debian's python3-torch
(1.13) and python3-numpy (`apt-get install python3-torch python3-numpy`; run it with /usr/bin/python3).

The model: ResNet-20 of He et al. (2016, "Deep Residual Learning for Image Recognition", section
4.2): a 3x3 convolution to 16 channels, then three stages of n = 3 basic blocks (two 3x3
convolutions, each followed by batch normalization, ReLU after the first and after the sum) with 16,
32 and 64 channels, the first block of stages 2 and 3 of stride 2; option A shortcuts (identity, and
at a stride-2 block every other pixel with the new channels zero: no parameters); global average
pooling; a 10-way linear layer. 0.27 M parameters. Convolutions without bias, initialized as He et
al. (2015, normal with std sqrt(2 / fan_out)), batch norm weight 1 and bias 0, the linear layer
PyTorch's default.

The recipe: SGD, momentum 0.9, lr 0.1, weight decay 1e-4 on every parameter (He et al.), batch 128,
the last batch of an epoch smaller (every image once per epoch), cosine decay of the learning rate
to 0 over the run evaluated at every step's fractional epoch (--schedule cosine, the default, which
fits any budget; --schedule step divides it by 10 at 50% and 75% of the epochs, the proportions of
He's 32k and 48k of 64k iterations). Data: the CIFAR-10 binary batches read directly
(data_batch_1..5.bin, test_batch.bin: 1 label byte + 3072 pixel bytes, R, G, B planes of 32x32),
each channel normalized with the published mean and std (fb.resnet.torch's datasets/cifar10.lua:
mean 125.3, 123.0, 113.9, std 63.0, 62.1, 66.7 in bytes; --normalize train uses the train split's
own), then for training each image zero-padded by 4 pixels, cropped at random back to 32x32 and
mirrored with probability 1/2 (the padding is zero after normalization, the channel mean, as in
fb.resnet.torch and as vibrun's augment = "crop_flip" with scale = "channel"). Evaluation: batch norm
with its running statistics, no augmentation.

Prints, per epoch, the training loss and accuracy (on the augmented batches, running), the test
accuracy and the training images/s (the training loop alone, evaluation not counted); --bench K
instead times K training steps at the batch size after 2 warm-up steps and prints images/s, and
images per CPU second of the process (which a loaded machine disturbs less).

  /usr/bin/python3 tests/tools/ref_resnet_cifar.py --data ../shared/data/cifar-10-subset --epochs 5 --threads 2
  /usr/bin/python3 tests/tools/ref_resnet_cifar.py --data ../shared/data/cifar-10-subset --bench 20 --threads 1
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PUBLISHED_MEAN = (125.3, 123.0, 113.9)      # bytes, R G B (fb.resnet.torch, datasets/cifar10.lua)
PUBLISHED_STD = (63.0, 62.1, 66.7)
RECORD = 1 + 3072


def read_batches(paths):
    """Images (n, 3, 32, 32) as float32 bytes and labels (n,) int64 from CIFAR-10 binary batches."""
    raws = []
    for p in paths:
        raw = np.fromfile(p, dtype=np.uint8)
        if raw.size == 0 or raw.size % RECORD:
            sys.exit(f"{p}: {raw.size} bytes is not a whole number of {RECORD}-byte CIFAR-10 records")
        raws.append(raw.reshape(-1, RECORD))
    raw = np.concatenate(raws)
    if raw[:, 0].max() > 9:
        sys.exit(f"{paths[0]}: a label above 9: not CIFAR-10")
    x = raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(raw[:, 0].astype(np.int64))


def load(data, normalize, train_limit, test_limit):
    names = [f"data_batch_{i}.bin" for i in range(1, 6)]
    xtr, ytr = read_batches([os.path.join(data, n) for n in names])
    xte, yte = read_batches([os.path.join(data, "test_batch.bin")])
    if train_limit:
        xtr, ytr = xtr[:train_limit], ytr[:train_limit]
    if test_limit:
        xte, yte = xte[:test_limit], yte[:test_limit]
    if normalize == "published":
        mean = torch.tensor(PUBLISHED_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(PUBLISHED_STD).view(1, 3, 1, 1)
    else:                                   # the train split's population statistics
        x64 = xtr.double()
        mean = x64.mean(dim=(0, 2, 3)).view(1, 3, 1, 1)
        std = x64.std(dim=(0, 2, 3), unbiased=False).view(1, 3, 1, 1)
    xtr = ((xtr.double() - mean) / std).float()
    xte = ((xte.double() - mean) / std).float()
    return xtr, ytr, xte, yte


def crop_flip(x, gen, pad=4):
    """Each image of x zero-padded by pad, cropped at a random corner back to its size, and
    mirrored left-right with probability 1/2."""
    n, _, h, w = x.shape
    xp = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    flip = torch.randint(0, 2, (n,), generator=gen).bool()
    rows = (dy.view(n, 1) + torch.arange(h).view(1, h))                    # (n, h)
    cols = (dx.view(n, 1) + torch.arange(w).view(1, w))                    # (n, w)
    cols = torch.where(flip.view(n, 1), cols.flip(1), cols)
    idx_n = torch.arange(n).view(n, 1, 1, 1)
    idx_c = torch.arange(x.shape[1]).view(1, -1, 1, 1)
    return xp[idx_n, idx_c, rows.view(n, 1, h, 1), cols.view(n, 1, 1, w)]


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.stride, self.extra = stride, cout - cin

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        short = x
        if self.stride != 1 or self.extra:  # option A: subsample, zero-pad the new channels
            short = x[:, :, ::self.stride, ::self.stride]
            short = F.pad(short, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))
        return F.relu(out + short)


class ResNet(nn.Module):
    def __init__(self, depth=20, classes=10):
        super().__init__()
        assert (depth - 2) % 6 == 0, "depth 6n + 2: 20, 32, 44, 56, 110"
        n = (depth - 2) // 6
        self.conv = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(n):
                layers.append(Block(cin, cout, stride if i == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*layers)
        self.fc = nn.Linear(64, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        x = self.blocks(x)
        return self.fc(x.mean(dim=(2, 3)))


def lr_at(args, e):
    """The learning rate at fractional epoch e."""
    if args.schedule == "cosine":
        return 0.5 * args.lr * (1.0 + math.cos(math.pi * min(e, args.epochs) / args.epochs))
    return args.lr * 0.1 ** ((e >= 0.5 * args.epochs) + (e >= 0.75 * args.epochs))


def evaluate(model, x, y, batch=1000):
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            out = model(x[i:i + batch])
            loss += F.cross_entropy(out, y[i:i + batch], reduction="sum").item()
            correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(y), loss / len(y)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data/cifar-10-subset",
                    help="folder of data_batch_1..5.bin and test_batch.bin")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--schedule", choices=("cosine", "step"), default="cosine")
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--normalize", choices=("published", "train"), default="published")
    ap.add_argument("--no-augment", action="store_true", help="train on the images as they are")
    ap.add_argument("--train-limit", type=int, default=0, help="the first N training images (0: all)")
    ap.add_argument("--test-limit", type=int, default=0, help="the first N test images (0: all)")
    ap.add_argument("--bench", type=int, default=0, metavar="K",
                    help="time K training steps at the batch size (after 2 warm-up steps) and stop")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    xtr, ytr, xte, yte = load(args.data, args.normalize, args.train_limit, args.test_limit)
    model = ResNet(args.depth)
    nparams = sum(p.numel() for p in model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,
                          weight_decay=args.weight_decay)
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} thread(s), ResNet-{args.depth} "
          f"({nparams} parameters), {len(ytr)} train / {len(yte)} test images, batch {args.batch}, "
          f"lr {args.lr} {args.schedule}, momentum {args.momentum}, weight decay {args.weight_decay}, "
          f"normalize {args.normalize}, augment {'none' if args.no_augment else 'crop_flip'}, seed {args.seed}",
          flush=True)

    def step(xb, yb, lr):
        for g in opt.param_groups:
            g["lr"] = lr
        model.train()
        if not args.no_augment:
            xb = crop_flip(xb, gen)
        out = model(xb)
        loss = F.cross_entropy(out, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item(), (out.argmax(1) == yb).sum().item()

    if args.bench:
        b = args.batch
        reps = -(-(args.bench + 2) * b // len(ytr))
        idx = torch.cat([torch.randperm(len(ytr), generator=gen) for _ in range(reps)])
        for k in range(2):
            step(xtr[idx[k * b:(k + 1) * b]], ytr[idx[k * b:(k + 1) * b]], args.lr)
        t0, c0 = time.perf_counter(), time.process_time()
        for k in range(2, args.bench + 2):
            step(xtr[idx[k * b:(k + 1) * b]], ytr[idx[k * b:(k + 1) * b]], args.lr)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        # CPU seconds of all the process's threads: on a loaded machine wall time / CPU time shows
        # how much of the run the process waited for a core.
        print(f"bench: {args.bench} steps of batch {b} in {dt:.2f} s ({dc:.2f} CPU s): "
              f"{args.bench * b / dt:.1f} images/s, {args.bench * b / dc:.1f} images per CPU second "
              f"({torch.get_num_threads()} thread(s))")
        return

    acc, loss = evaluate(model, xte, yte)
    print(f"epoch 0: test accuracy {acc:.4f}, test loss {loss:.4f}", flush=True)
    steps = -(-len(ytr) // args.batch)
    t_start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        perm = torch.randperm(len(ytr), generator=gen)
        t0 = time.perf_counter()
        tot_loss, tot_correct = 0.0, 0
        for s in range(steps):
            ib = perm[s * args.batch:(s + 1) * args.batch]
            l, c = step(xtr[ib], ytr[ib], lr_at(args, epoch - 1 + s / steps))
            tot_loss += l * len(ib)
            tot_correct += c
        t_train = time.perf_counter() - t0
        acc, loss = evaluate(model, xte, yte)
        print(f"epoch {epoch}: train loss {tot_loss / len(ytr):.4f}, train accuracy {tot_correct / len(ytr):.4f}, "
              f"test accuracy {acc:.4f}, test loss {loss:.4f}, {len(ytr) / t_train:.1f} train images/s, "
              f"{time.perf_counter() - t_start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
