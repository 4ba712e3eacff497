#!/usr/bin/python3
"""tools/train/reference.py - the float32 PyTorch forward pass of the MNIST
network, the reference that norn's event-driven run must equal.

  /usr/bin/python3 tools/train/reference.py --weights examples/mnist \\
      --images IMAGES.npy [--labels LABELS.npy] [--first K --count N] --out DIR

Loads conv1.npy, conv2.npy, fc.npy (checked: float32, multiples of 2^-10,
|w| <= 8) and runs snn.forward (encoder, conv1, LIF, sum pool, conv2, LIF,
sum pool, flatten, fc, LI readout; see snn.py for every operation) on the
images (uint8 [N,28,28]; rows [K, K+N) when --first/--count are given),
checking at every step that each synaptic sum was exact. Writes to DIR:

  predictions.npy     int64 [N]      argmax of scores (lowest index on ties)
  scores.npy          float32 [N,10] per sample, max over the T steps of the
                                     readout's v
  spike_counts.npy    int64 [N,3]    spikes of input (encoder), lif1, lif2
  synaptic_events.npy int64 [N,3]    spikes x nonzero fan-out of input->lif1
                                     (conv1), lif1->lif2 (pool1+conv2),
                                     lif2->readout (pool2+flatten+fc)
  reference.json      the columns, totals, means and accuracy (with labels)

Deterministic: the same weights and images give the same bytes.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads, see train.py

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import snn  # noqa: E402

SPIKE_COLUMNS = ["input", "lif1", "lif2"]
EVENT_COLUMNS = ["input->lif1 (conv1)", "lif1->lif2 (pool1, conv2)", "lif2->readout (pool2, flatten, fc)"]


def run(images, w, batch=200, check=True):
    """images uint8 [N,28,28], w dict of float32 tensors (quantized).
    Returns dict predictions, scores, spike_counts, synaptic_events."""
    for v in w.values():
        snn.check_weights(v.numpy())
    fan = snn.fanouts(w)
    scores, spikes, events = [], [], []
    with torch.no_grad():
        for s in range(0, len(images), batch):
            x = snn.encode(snn.current(images[s : s + batch]))
            sc, rec = snn.forward(x, w, check=check, record=True)
            scores.append(sc.numpy())
            sp, ev = [], []
            for k in SPIKE_COLUMNS:
                z = rec[k].sum(0)  # [B, ...] spike count per neuron
                z = z.reshape(z.shape[0], *fan[k].shape).double()
                sp.append(z.sum(dim=tuple(range(1, z.dim()))))
                ev.append((z * fan[k].double()).sum(dim=tuple(range(1, z.dim()))))
            spikes.append(torch.stack(sp, 1).round().long().numpy())
            events.append(torch.stack(ev, 1).round().long().numpy())
    scores = np.concatenate(scores).astype(np.float32)
    return {
        "predictions": snn.predict(scores),
        "scores": scores,
        "spike_counts": np.concatenate(spikes).astype(np.int64),
        "synaptic_events": np.concatenate(events).astype(np.int64),
    }


def summary(r, labels=None):
    n = len(r["predictions"])
    out = {
        "samples": n,
        "T": snn.T,
        "spike_columns": SPIKE_COLUMNS,
        "event_columns": EVENT_COLUMNS,
        "spikes_total": r["spike_counts"].sum(0).tolist(),
        "spikes_per_sample": (r["spike_counts"].sum(0) / max(n, 1)).tolist(),
        "events_total": r["synaptic_events"].sum(0).tolist(),
        "events_per_sample": (r["synaptic_events"].sum(0) / max(n, 1)).tolist(),
    }
    if labels is not None:
        out["correct"] = int((r["predictions"] == labels).sum())
        out["accuracy"] = out["correct"] / max(n, 1)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", required=True, help="folder with conv1.npy, conv2.npy, fc.npy")
    ap.add_argument("--images", required=True, help="uint8 [N,28,28] .npy")
    ap.add_argument("--labels", help="uint8/int [N] .npy (for the accuracy)")
    ap.add_argument("--first", type=int, default=0, help="first row used (default 0)")
    ap.add_argument("--count", type=int, help="rows used (default: all from --first)")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-check", action="store_true", help="skip the float64 exactness check")
    a = ap.parse_args()
    snn.keep_heap()
    torch.set_num_threads(a.threads)

    images = np.load(a.images)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        sys.exit("%s: want uint8 [N,28,28], got %s %s" % (a.images, images.dtype, images.shape))
    end = len(images) if a.count is None else a.first + a.count
    if not 0 <= a.first <= end <= len(images):
        sys.exit("rows [%d, %d) outside [0, %d)" % (a.first, end, len(images)))
    images = images[a.first : end]
    labels = None
    if a.labels:
        labels = np.load(a.labels)[a.first : end].astype(np.int64)
    w = snn.load_weights(a.weights)

    t0 = time.time()
    r = run(images, w, check=not a.no_check)
    s = summary(r, labels)
    s["seconds"] = round(time.time() - t0, 2)
    s["images"] = os.path.abspath(a.images)
    s["rows"] = [a.first, end]
    os.makedirs(a.out, exist_ok=True)
    for k, v in r.items():
        np.save(os.path.join(a.out, k + ".npy"), v)
    with open(os.path.join(a.out, "reference.json"), "w") as f:
        json.dump(s, f, indent=1)
        f.write("\n")
    acc = " accuracy %.4f" % s["accuracy"] if labels is not None else ""
    print(
        "%d samples in %.1f s;%s spikes/sample %s; synaptic events/sample %s"
        % (s["samples"], s["seconds"], acc, [round(x, 1) for x in s["spikes_per_sample"]],
           [round(x, 1) for x in s["events_per_sample"]])
    )


if __name__ == "__main__":
    main()
