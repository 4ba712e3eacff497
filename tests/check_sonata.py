#!/usr/bin/python3
"""tests/check_sonata.py - check a SONATA spike file written by `norn export
--to sonata` with h5py, against the run it came from.

usage: check_sonata.py FILE.h5 RUN_DIR FROM_MS TO_MS POP [POP...]

Reads RUN_DIR/run.json and RUN_DIR/spikes.npy with NumPy, keeps the spikes
of each POP in the window (FROM_MS, TO_MS], and checks that FILE.h5 holds
exactly /spikes/<POP> for the POPs, in that order, each with
  timestamps  float64, 1-D, attribute units == "ms" (a str), the times
  node_ids    uint64, 1-D, the ids local to the population
  sorting     group attribute, an HDF5 enum {none: 0, by_id: 1, by_time: 2}
              holding by_time; the times non-decreasing.
Exit 0 and "ok" when everything holds; 1 and what differs otherwise; 3 when
h5py or NumPy cannot be imported (install python3-h5py).
"""
import json
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:  # the C test turns this into a failure with the message
    print(f"check_sonata.py: cannot import: {e} (install python3-h5py)")
    sys.exit(3)


def fail(msg):
    print(f"check_sonata.py: {msg}")
    sys.exit(1)


def main():
    if len(sys.argv) < 6:
        fail(__doc__.strip().splitlines()[2])
    path, run_dir, t0, t1 = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    want = sys.argv[5:]
    run = json.load(open(f"{run_dir}/run.json"))
    pops = {p["name"]: p for p in run["populations"]}
    s = np.load(f"{run_dir}/spikes.npy")
    with h5py.File(path, "r") as f:
        if "spikes" not in f or not isinstance(f["spikes"], h5py.Group):
            fail("no /spikes group")
        got = list(f["spikes"].keys())  # creation order when the file tracks it
        if got != want:
            fail(f"populations {got}, expected {want}")
        for name in want:
            g = f["spikes"][name]
            if "sorting" not in g.attrs:
                fail(f"/spikes/{name}: no sorting attribute")
            tid = g.attrs.get_id("sorting").dtype
            mapping = h5py.check_enum_dtype(tid)
            if mapping != {"none": 0, "by_id": 1, "by_time": 2}:
                fail(f"/spikes/{name}: sorting is not the SONATA enum: dtype {tid}, mapping {mapping}")
            if int(g.attrs["sorting"]) != 2:
                fail(f"/spikes/{name}: sorting = {g.attrs['sorting']}, expected by_time (2)")
            ts, ids = g["timestamps"], g["node_ids"]
            if ts.dtype != np.dtype("<f8") or ts.ndim != 1:
                fail(f"/spikes/{name}/timestamps: dtype {ts.dtype}, shape {ts.shape}; expected float64, 1-D")
            if ids.dtype != np.dtype("<u8") or ids.ndim != 1:
                fail(f"/spikes/{name}/node_ids: dtype {ids.dtype}, shape {ids.shape}; expected uint64, 1-D")
            units = ts.attrs.get("units")
            if units != "ms" or not isinstance(units, str):
                fail(f"/spikes/{name}/timestamps: units = {units!r}, expected 'ms' (a str)")
            p = pops[name]
            m = (s["neuron"] >= p["first_id"]) & (s["neuron"] <= p["last_id"]) & (s["time_ms"] > t0) & (
                s["time_ms"] <= t1)
            et, ei = s["time_ms"][m], (s["neuron"][m] - p["first_id"]).astype(np.uint64)
            gt, gi = ts[()], ids[()]
            if len(gt) != len(et):
                fail(f"/spikes/{name}: {len(gt)} spikes, expected {len(et)}")
            if not np.array_equal(gt, et):
                fail(f"/spikes/{name}/timestamps differ from spikes.npy")
            if not np.array_equal(gi, ei):
                fail(f"/spikes/{name}/node_ids differ from spikes.npy")
            if len(gt) > 1 and np.any(np.diff(gt) < 0):
                fail(f"/spikes/{name}: timestamps not sorted")
    print("ok")


main()
