#!/usr/bin/env python3
"""PyTorch's counterpart of one `sgdlab train` epoch on MNIST-shaped IDX files: load the
files, shuffle, train an MLP 784 -> 128 -> 10 for one epoch at batch 128 with SGD + momentum
0.9 (PyTorch's form, lr 0.01), 2 threads, as a plain script would.

    pip install torch
    python3 benches/reference/torch_mnist_epoch.py --write DIR   # synthetic IDX files
    python3 benches/reference/torch_mnist_epoch.py DIR           # one epoch on them

`benches/reference/mnist_epoch.sh` runs this and `sgdlab train` alternately and prints both.
Prints the seconds from before reading the files to the end of the epoch (the import of torch
is not counted; the shell script also times the whole process) and the epoch's mean loss.
"""

import argparse
import gzip
import os
import random
import struct
import sys
import time

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")


def write_idx(path, dims, payload):
    # IDX: two zero bytes, type 0x08 (u8), the number of dimensions, each as a big-endian u32.
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, len(dims)]))
        for d in dims:
            f.write(struct.pack(">I", d))
        f.write(payload)


def write_synthetic(folder, train, test, seed):
    """Random pixels and labels in MNIST's shapes, uncompressed, as sgdlab's
    write_synthetic_mnist lays them out (not the same random values)."""
    os.makedirs(folder, exist_ok=True)
    rng = random.Random(seed)
    for prefix, n in (("train", train), ("t10k", test)):
        write_idx(f"{folder}/{prefix}-images-idx3-ubyte", (n, 28, 28), rng.randbytes(n * 784))
        labels = bytes(rng.randrange(10) for _ in range(n))
        write_idx(f"{folder}/{prefix}-labels-idx1-ubyte", (n,), labels)


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return shape, data[4 + 4 * dims :]


def epoch(folder, batch, lr):
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(42)
    start = time.perf_counter()
    (n, rows, cols), pixels = read_idx(f"{folder}/{FILES[0]}")
    _, labels = read_idx(f"{folder}/{FILES[1]}")
    x = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(n, rows * cols)
    x = x.float() / 255.0
    y = torch.frombuffer(bytearray(labels), dtype=torch.uint8).long()
    model = torch.nn.Sequential(
        torch.nn.Linear(rows * cols, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    order = torch.randperm(n)
    total, steps = 0.0, 0
    for first in range(0, n, batch):
        index = order[first : first + batch]
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x[index]), y[index])
        loss.backward()
        optimizer.step()
        total += loss.item()
        steps += 1
    return time.perf_counter() - start, total / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--write", action="store_true", help="write synthetic IDX files")
    parser.add_argument("--train", type=int, default=60_000)
    parser.add_argument("--test", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.01)
    args = parser.parse_args()
    if args.write:
        write_synthetic(args.folder, args.train, args.test, 11)
        return
    for name in FILES:
        if not os.path.exists(f"{args.folder}/{name}"):
            sys.exit(f"error: {args.folder}/{name}: no such file (write them with --write)")
    seconds, loss = epoch(args.folder, args.batch, args.lr)
    print(f"{seconds:.3f} s, mean loss {loss:.4f}")


if __name__ == "__main__":
    main()
