#!/usr/bin/env bash
# tools/bootstrap.sh - install what norn needs from Debian's packages (as
# root, or through sudo), then configure and build it in ./build.
# Safe to run again: it installs only what is missing and rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(meson ninja-build gcc pkg-config libfyaml-dev libjemalloc-dev check libcairo2-dev libhdf5-dev python3-numpy python3-h5py
      libopenmpi-dev openmpi-bin)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: installing ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [ ! -f build/build.ninja ]; then
    meson setup build --buildtype=release >&2
fi
ninja -C build >&2
