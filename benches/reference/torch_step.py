#!/usr/bin/env python3
"""PyTorch's counterpart of the "step" rows of `sgdlab bench` (and of the `step` group of
`cargo bench --bench training`): one training step, forward + backward + SGD with momentum
0.9, of an MLP 784 -> 128 -> 10 and 784 -> 512 -> 10 at batch 128 and of logistic regression
30 -> 1 at batch 10, on 2 threads, the batch taken from data resident in memory.

    pip install torch
    python3 benches/reference/torch_step.py [--steps N] [--repeats R]

Prints the median time of one step (median over R rounds of N steps each, after a warm-up)
as a Markdown table with examples/s and GFLOP/s (6 x the weight count per example), the
same columns as sgdlab's table, so the two can be set side by side in one session.
"""

import argparse
import statistics
import time

import torch

torch.set_num_threads(2)

# (name, batch, input, hidden or None, classes), the names as `sgdlab bench` prints them.
SHAPES = [
    ("mlp 128 × 784 → 128 → 10", 128, 784, 128, 10),
    ("mlp 128 × 784 → 512 → 10", 128, 784, 512, 10),
    ("logistic 10 × 30 → 1", 10, 30, None, 2),
]


def model_and_loss(inputs, hidden, classes):
    outputs = 1 if classes == 2 else classes
    if hidden is None:
        model = torch.nn.Linear(inputs, outputs)
    else:
        model = torch.nn.Sequential(
            torch.nn.Linear(inputs, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, outputs)
        )
    if classes == 2:
        # Binary logistic loss from the logit, as sgdlab's softplus form.
        loss = lambda logits, y: torch.nn.functional.binary_cross_entropy_with_logits(
            logits.squeeze(1), y.float()
        )
    else:
        loss = torch.nn.functional.cross_entropy  # log-sum-exp of the logits
    return model, loss


def weights(inputs, hidden, classes):
    outputs = 1 if classes == 2 else classes
    return inputs * outputs if hidden is None else inputs * hidden + hidden * outputs


def time_step(batch, inputs, hidden, classes, steps, repeats):
    torch.manual_seed(1)
    n = batch * 8
    features = torch.randn(n, inputs)
    labels = torch.randint(0, classes, (n,))
    model, loss_fn = model_and_loss(inputs, hidden, classes)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    order = torch.randperm(n)
    position = 0

    def step():
        nonlocal position, order
        if position + batch > n:
            order, position = torch.randperm(n), 0
        index = order[position : position + batch]
        position += batch
        x, y = features[index], labels[index]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    warm_up = time.perf_counter()
    while time.perf_counter() - warm_up < 0.3:
        step()
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        rounds.append((time.perf_counter() - start) / steps)
    return statistics.median(rounds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
    print()
    print("| case | median | per | throughput | GFLOP/s |")
    print("|---|---:|---|---:|---:|")
    for name, batch, inputs, hidden, classes in SHAPES:
        seconds = time_step(batch, inputs, hidden, classes, args.steps, args.repeats)
        flop = 6 * weights(inputs, hidden, classes) * batch
        shown = f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.1f} µs"
        print(
            f"| {name} | {shown} | step | {batch / seconds:,.0f} examples/s "
            f"| {flop / seconds / 1e9:.1f} |"
        )


if __name__ == "__main__":
    main()
