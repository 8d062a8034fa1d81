#!/usr/bin/env bash
# The test suite, as the README and CI run it: every CPU test plus the GPU-path tests on wgpu
# and the remote-device tests (`sgdlab serve` processes on 127.0.0.1, tests/remote.rs).
# Without a GPU, wgpu runs on Mesa's software Vulkan driver (lavapipe); this installs it with
# apt-get when vulkaninfo shows no llvmpipe device (that needs root), then runs
# `cargo test --locked --features wgpu,remote` (extra arguments are passed on) and the totals.
# One feature set for every test binary, the same as CI's clippy, so dependencies build once.
set -euo pipefail
cd "$(dirname "$0")/.."

# Read vulkaninfo whole: `vulkaninfo | grep -q` could fail under pipefail when grep stops early.
vulkan_summary() { vulkaninfo --summary 2>/dev/null || true; }
has_lavapipe() { vulkan_summary | grep llvmpipe > /dev/null; }
if ! has_lavapipe; then
    echo "== installing lavapipe (Mesa's software Vulkan driver) for the wgpu tests"
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: no Vulkan device and installing lavapipe needs root: apt-get install -y mesa-vulkan-drivers vulkan-tools" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq mesa-vulkan-drivers vulkan-tools; }; then
        echo "error: apt-get could not install mesa-vulkan-drivers vulkan-tools (lavapipe)" >&2
        exit 1
    fi
    if ! has_lavapipe; then
        echo "error: mesa-vulkan-drivers installed, but vulkaninfo --summary shows no llvmpipe device" >&2
        exit 1
    fi
fi
vulkan_summary | grep deviceName
# Mesa prints a harmless "XDG_RUNTIME_DIR is invalid" per process when it is unset.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    XDG_RUNTIME_DIR=$(mktemp -d)
    export XDG_RUNTIME_DIR
fi

log=$(mktemp)
cargo test --locked --features wgpu,remote "$@" 2>&1 | tee "$log"
# cargo's last summary is the (empty) doc-test run; close on the totals over every test binary.
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log"
