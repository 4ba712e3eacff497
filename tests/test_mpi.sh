#!/bin/sh
# tests/test_mpi.sh - `mpirun -np K norn run` writes the files one process
# writes, byte for byte (issue 9): for every description in tests/mpi/
# (grid, continuous and euler mode; Poisson drive, DC, spike trains and
# tensors; NEST pair and triplet STDP, tsodyks2, Norse STDP and
# Tsodyks-Markram; state, weight and plasticity recordings), the run on
# K = 1, 2, 3, 4 ranks is compared with the plain run, every .npy and .csv.
# Then from_list, fixed_total_number and one_to_one on 2 and 3 ranks,
# from_matrix on 3 (if numpy is there to write the matrix), and a
# description error under mpirun: reported once, every rank exits 2.
#
# usage: test_mpi.sh NORN HAVE_MPI (meson passes both). Exit 77 (meson's
# "skipped") when norn was built without MPI or OpenMPI's mpirun is missing.
set -u
norn=$1
have_mpi=$2
src=$(cd "$(dirname "$0")" && pwd)
if [ "$have_mpi" != 1 ]; then
    echo "SKIP: norn was built without MPI (install libopenmpi-dev, reconfigure)"
    exit 77
fi
if ! command -v mpirun >/dev/null 2>&1 || ! mpirun --version 2>&1 | grep -q "Open MPI"; then
    echo "SKIP: OpenMPI's mpirun is not installed (apt-get install openmpi-bin)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Under tools/sanitize.sh (ASan): no leak check in the ranks, whose MPI
# library leaves its own blocks (some from components it has unloaded, so no
# suppression can name them); the one-process runs keep it.
mpirun="env ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 mpirun --oversubscribe --allow-run-as-root"
fail=0
for desc in "$src"/mpi/*.yaml; do
    name=$(basename "$desc" .yaml)
    if ! "$norn" run "$desc" -o "$tmp/$name-1p" --quiet; then
        echo "FAIL $name: the one-process run failed"
        fail=1
        continue
    fi
    for K in 1 2 3 4; do
        out="$tmp/$name-$K"
        if ! $mpirun -np $K "$norn" run "$desc" -o "$out" --quiet; then
            echo "FAIL $name: mpirun -np $K failed"
            fail=1
            continue
        fi
        n=0
        bad=0
        for f in "$tmp/$name-1p"/*.npy "$tmp/$name-1p"/*.csv; do
            n=$((n + 1))
            if ! cmp -s "$f" "$out/$(basename "$f")"; then
                echo "FAIL $name: K = $K: $(basename "$f") differs from the one-process run"
                bad=1
            fi
        done
        grep -q "\"ranks\": $K" "$out/run.json" || [ $K = 1 ] || {
            echo "FAIL $name: K = $K: run.json does not say $K ranks"
            bad=1
        }
        [ $bad = 0 ] && echo "ok   $name: K = $K: $n files byte-identical"
        [ $bad = 0 ] || fail=1
    done
done

# the rules not covered above: from_list (the list is a weights file written
# by the continuous run: pre, post, weight), fixed_total_number, one_to_one
list="$tmp/continuous_stp_stdp-1p/weights_ab.npy"
cat >"$tmp/rules.yaml" <<EOF
simulation: {duration: 100, resolution: 0.1, mode: grid, seed: 3, name: rules}
populations:
  a: {model: lif, size: 120, initial: {V_m: {dist: uniform, low: -70, high: -55}}}
  b: {model: lif, size: 37}
stimuli:
  - {type: poisson, rate: 8000, to: [a], weight: 30}
projections:
  - {name: ab, from: a, to: b, connect: {rule: from_list, file: $list}, delay: 1.0}
  - {name: aa, from: a, to: a, connect: {rule: fixed_total_number, N: 900}, weight: {dist: uniform, low: 10, high: 40},
     delay: {dist: uniform, low: 0.5, high: 1.5}}
  - {name: bb, from: b, to: b, connect: {rule: one_to_one}, weight: -20, delay: 0.7}
record:
  spikes: all
  weights: [{projection: ab}, {projection: aa}]
EOF
if "$norn" run "$tmp/rules.yaml" -o "$tmp/rules-1p" --quiet; then
    for K in 2 3; do
        bad=0
        $mpirun -np $K "$norn" run "$tmp/rules.yaml" -o "$tmp/rules-$K" --quiet || bad=1
        for f in "$tmp/rules-1p"/*.npy "$tmp/rules-1p"/*.csv; do
            cmp -s "$f" "$tmp/rules-$K/$(basename "$f")" || { echo "FAIL rules: K = $K: $(basename "$f") differs"; bad=1; }
        done
        [ $bad = 0 ] && echo "ok   rules (from_list, fixed_total_number, one_to_one): K = $K: byte-identical"
        [ $bad = 0 ] || fail=1
    done
else
    echo "FAIL rules: the one-process run failed"
    fail=1
fi

# from_matrix (a [post, pre] weight file, written with numpy when it is there)
if /usr/bin/python3 -c "import numpy" 2>/dev/null; then
    /usr/bin/python3 -c "
import numpy as np
r = np.random.default_rng(1)
w = np.where(r.random((37, 120)) < 0.2, r.uniform(50, 200, (37, 120)), 0.0)
np.save('$tmp/w.npy', w)"
    sed -e "s#{rule: from_list, file: [^}]*}#{rule: from_matrix}, weight: {file: $tmp/w.npy}#" \
        -e "s/name: rules}/name: matrix}/" "$tmp/rules.yaml" >"$tmp/matrix.yaml"
    if "$norn" run "$tmp/matrix.yaml" -o "$tmp/matrix-1p" --quiet; then
        bad=0
        $mpirun -np 3 "$norn" run "$tmp/matrix.yaml" -o "$tmp/matrix-3" --quiet || bad=1
        for f in "$tmp/matrix-1p"/*.npy "$tmp/matrix-1p"/*.csv; do
            cmp -s "$f" "$tmp/matrix-3/$(basename "$f")" || { echo "FAIL from_matrix: K = 3: $(basename "$f") differs"; bad=1; }
        done
        [ $bad = 0 ] && echo "ok   from_matrix: K = 3: byte-identical"
        [ $bad = 0 ] || fail=1
    else
        echo "FAIL from_matrix: the one-process run failed"
        fail=1
    fi
else
    echo "(from_matrix not checked: no numpy for /usr/bin/python3)"
fi

# a description error: one message (rank 0), every rank exits 2, nobody hangs
printf 'simulation: {duration: 10}\npopulations:\n  p: {model: lif, size: 4, params: {tau_m: -1}}\n' >"$tmp/bad.yaml"
$mpirun -np 3 "$norn" run "$tmp/bad.yaml" -o "$tmp/bad" --quiet >"$tmp/bad.out" 2>"$tmp/bad.err"
rc=$?
msgs=$(grep -c "tau_m" "$tmp/bad.err")
if [ $rc -ne 2 ] || [ "$msgs" -ne 1 ]; then
    echo "FAIL bad description: exit $rc (want 2), $msgs messages (want 1):"
    cat "$tmp/bad.err"
    fail=1
else
    echo "ok   bad description: reported once, exit 2"
fi
exit $fail
