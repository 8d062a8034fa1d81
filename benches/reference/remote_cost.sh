#!/usr/bin/env bash
# The step time of the MNIST-shaped MLP on local and remote devices, on loopback:
#   benches/reference/remote_cost.sh [ROUNDS] [SGDLAB]
# SGDLAB (default target/release/sgdlab) must be built with --features remote. Writes 12,800
# + 1,000 synthetic MNIST-shaped images to a temporary folder, starts four `sgdlab serve`
# processes on 127.0.0.1 (two WebSocket, two Iroh), then ROUNDS (default 2) times trains
# configs/mnist_mlp.toml for 4 epochs on each setup in turn: cpu; cpu,cpu; one and two
# WebSocket servers; one and two Iroh servers. Prints the median of epochs 2 to 4 per step
# (90 steps an epoch, validation and checkpoint included) and the last validation loss.
# Every server it starts is stopped by pid on exit. docs/remote.md has the figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-2}
sgdlab=${2:-target/release/sgdlab}
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
python3 benches/reference/torch_mnist_epoch.py --write "$work/mnist" --train 12800 --test 1000
head -c 32 /dev/urandom | base64 > "$work/token"
serve() { # NAME [ARGS...]
  local name=$1
  shift
  "$sgdlab" serve --listen 127.0.0.1:0 --token-file "$work/token" "$@" > "$work/$name.out" 2> /dev/null &
  pids+=($!)
}
serve ws1
serve ws2
serve ir1 --transport iroh
serve ir2 --transport iroh
url() { # the address a server printed, once it has
  for _ in $(seq 500); do
    grep -o '[a-z]*://[^,]*' "$work/$1.out" 2> /dev/null | head -1 | grep . && return
    sleep 0.02
  done
  echo "sgdlab serve ($1) printed no address" >&2
  exit 1
}
ws1=$(url ws1) ws2=$(url ws2) ir1=$(url ir1) ir2=$(url ir2)
declare -A devices=(
  [cpu]="--device cpu" [cpu,cpu]="--devices cpu,cpu"
  [ws]="--device $ws1" [ws,ws]="--devices $ws1,$ws2"
  [iroh]="--device $ir1" [iroh,iroh]="--devices $ir1,$ir2"
)
echo "| round | devices | ms per step | valid_loss |"
echo "|---:|---|---:|---:|"
for round in $(seq "$rounds"); do
  for setup in cpu cpu,cpu ws ws,ws iroh iroh,iroh; do
    run="$work/run-$round-$setup"
    # shellcheck disable=SC2086 # the device arguments split into words on purpose
    "$sgdlab" train configs/mnist_mlp.toml --no-plots --set data.path="$work/mnist" \
      --set training.epochs=4 ${devices[$setup]} --token-file "$work/token" \
      --run-dir "$run" > "$work/train.log" 2>&1 || { tail -1 "$work/train.log" >&2; exit 1; }
    python3 - "$run/metrics.csv" "$round" "$setup" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
t = [float(row["elapsed_seconds"]) for row in rows]
per_step = statistics.median(t[i] - t[i - 1] for i in range(1, len(t))) / 90 * 1000
print(f"| {sys.argv[2]} | {sys.argv[3]} | {per_step:.2f} | {rows[-1]['valid_loss']} |")
PY
  done
done
