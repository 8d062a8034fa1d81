#!/usr/bin/env bash
# One MNIST-shaped epoch, sgdlab against PyTorch, alternating, on the same IDX files:
#   benches/reference/mnist_epoch.sh [ROUNDS] [SGDLAB]
# writes 60,000 + 10,000 synthetic images to a temporary folder, then ROUNDS (default 5) times
# runs `sgdlab train` (configs/mnist_mlp.toml, one epoch, MLP 784 → 128 → 10, batch 128,
# SGD + momentum 0.9 in PyTorch's form, lr 0.01, no validation split) and the PyTorch script,
# and prints each process's wall time and PyTorch's in-script time (load, shuffle, train).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
sgdlab=${2:-target/release/sgdlab}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benches/reference/torch_mnist_epoch.py --write "$work/mnist"
now() { date +%s.%N; }
echo "| round | sgdlab train (process) | PyTorch (process) | PyTorch (in script) |"
echo "|---:|---:|---:|---:|"
for round in $(seq "$rounds"); do
  start=$(now)
  "$sgdlab" train configs/mnist_mlp.toml --run-dir "$work/run-$round" \
    --set data.path="$work/mnist" --set data.validation_fraction=0 \
    --set training.epochs=1 --set optimizer.name=momentum --set optimizer.form=pytorch \
    --set optimizer.learning_rate=0.01 --set optimizer.momentum=0.9 > /dev/null
  ours=$(echo "$(now) - $start" | bc)
  start=$(now)
  inside=$(python3 benches/reference/torch_mnist_epoch.py "$work/mnist" 2>/dev/null)
  theirs=$(echo "$(now) - $start" | bc)
  printf '| %s | %.3f s | %.3f s | %s |\n' "$round" "$ours" "$theirs" "$inside"
done
