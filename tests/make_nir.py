#!/usr/bin/python3
"""tests/make_nir.py OUTDIR - NIR graphs for tests/test_nir.c, written with h5py in
the layout of NIR's reference writer (nir.write: /version, /node/type, /node/edges,
/node/nodes/<key>/...), with NumPy references computed independently of norn.

  full.nir          every node type norn imports, in one graph (2 Inputs, conv, pools,
                    flatten, affine with bias, scale (float and bool), delay, recurrence,
                    CubaLIF, CubaLI, LIF, LI, IF, I, 5 Outputs), gzip-compressed arrays,
                    vlen strings, keys with '.', metadata and input_type groups;
                    input.npy [T, 96] and ref_<pop>_<var>.npy / ref_spikes_<pop>.npy:
                    Norse's float32 steps (shared/reference/norse-semantics.md 3.1, 3.5,
                    3.7, 3.10) run layer by layer in NumPy, dt = 0.5 ms
  conv_<k>.nir      Input -> conv / pool chains -> LI -> Output, with m_<k>.npy the dense
                    [n_out, n_in] matrix of the chain (numpy, from the definitions)
  ms.nir            a CubaLIF with times in ms (for --time-unit ms)
  empty_edges.nir   an Input and a LIF, edges = [] (h5py writes a float64 (0,))
  err_*.nir         one defect each (see ERRORS below)
  syn_*.npy         synapse lists for the from_list rule, good and bad

Weights are multiples of 2^-10 and inputs 0/1, so every float32 sum is exact in any
order: norn must match the references bit for bit.
"""
import os
import sys

import h5py
import numpy as np

F = np.float32
STR = h5py.string_dtype()  # variable-length UTF-8, as nir.write


def qw(rng, shape, lo, hi):
    """Weights: integers in [lo, hi] times 2^-10."""
    return (rng.integers(lo, hi + 1, size=shape) / 1024.0).astype(F)


class Graph:
    def __init__(self):
        self.nodes = {}
        self.edges = []

    def add(self, key, typ, **ds):
        self.nodes[key] = (typ, ds)

    def chain(self, *keys):
        for a, b in zip(keys, keys[1:]):
            self.edges.append((a, b))


def write(path, g, compression=None, fixed=False, extras=False, version="1.0.7"):
    """As nir.write: strings as vlen UTF-8 (or fixed-length bytes when fixed),
    arrays chunked + compressed when compression is given (NIR main's default
    is gzip), scalars and strings never compressed."""

    def s(grp, name, text):
        if fixed:
            grp.create_dataset(name, data=np.bytes_(text))
        else:
            grp.create_dataset(name, data=text, dtype=STR)

    with h5py.File(path, "w") as f:
        s(f, "version", version)
        node = f.create_group("node")
        s(node, "type", "NIRGraph")
        if g.edges:
            if fixed:
                node.create_dataset("edges", data=np.array(g.edges, dtype="S"))
            else:
                node.create_dataset("edges", data=np.array(g.edges, dtype=object), dtype=STR)
        else:
            node.create_dataset("edges", data=[])
        if extras:
            md = node.create_group("metadata")
            md.create_dataset("source", data="tests/make_nir.py", dtype=STR)
        nodes = node.create_group("nodes")
        for key, (typ, ds) in g.nodes.items():
            grp = nodes.create_group(key)
            s(grp, "type", typ)
            for k, v in ds.items():
                if isinstance(v, str):
                    s(grp, k, v)
                elif isinstance(v, dict):  # a group (metadata, input_type)
                    sub = grp.create_group(k)
                    for kk, vv in v.items():
                        sub.create_dataset(kk, data=vv)
                elif isinstance(v, np.ndarray) and v.ndim > 0 and v.size > 1 and compression:
                    grp.create_dataset(k, data=v, compression=compression)
                else:
                    grp.create_dataset(k, data=v)


# ---------------------------------------------------------------- references

def conv_ref(x, w, stride, pad, dil, groups):
    """PyTorch's conv from its definition: x (C, H, W), w (Co, Ci/g, kh, kw),
    pad = ((top, bottom), (left, right)). float64."""
    C, H, W = x.shape
    co_n, cig, kh, kw = w.shape
    xp = np.zeros((C, H + pad[0][0] + pad[0][1], W + pad[1][0] + pad[1][1]))
    xp[:, pad[0][0]:pad[0][0] + H, pad[1][0]:pad[1][0] + W] = x
    oh = (xp.shape[1] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (xp.shape[2] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((co_n, oh, ow))
    cog = co_n // groups
    for co in range(co_n):
        g = co // cog
        for oy in range(oh):
            for ox in range(ow):
                acc = 0.0
                for ci in range(cig):
                    for ky in range(kh):
                        for kx in range(kw):
                            acc += float(w[co, ci, ky, kx]) * xp[g * cig + ci, oy * stride[0] + ky * dil[0],
                                                                 ox * stride[1] + kx * dil[1]]
                y[co, oy, ox] = acc
    return y


def same_pad(k, d):
    t = d * (k - 1)
    return (t // 2, t - t // 2)


def pool_ref(x, k, stride, pad, avg):
    C, H, W = x.shape
    xp = np.zeros((C, H + 2 * pad[0], W + 2 * pad[1]))
    xp[:, pad[0]:pad[0] + H, pad[1]:pad[1] + W] = x
    oh = (xp.shape[1] - k[0]) // stride[0] + 1
    ow = (xp.shape[2] - k[1]) // stride[1] + 1
    y = np.zeros((C, oh, ow))
    for c in range(C):
        for oy in range(oh):
            for ox in range(ow):
                y[c, oy, ox] = xp[c, oy * stride[0]:oy * stride[0] + k[0], ox * stride[1]:ox * stride[1] + k[1]].sum()
    return y / (k[0] * k[1]) if avg else y


class LIF:  # Norse lif_feed_forward_step / lif_step (3.1), float32
    def __init__(self, n, dt, tau_syn, tau_mem, v_leak, v_th, v_reset):
        self.cm = F(F(dt) * F(1.0 / float(tau_mem)))
        self.cs = F(F(-dt) * F(1.0 / float(tau_syn)))
        self.vl, self.vth, self.vr = F(v_leak), F(v_th), F(v_reset)
        self.v = np.full(n, self.vl, F)
        self.i = np.zeros(n, F)

    def step(self, ff, rec=None):
        ij = (self.i + ff.astype(F)) + (rec.astype(F) if rec is not None else F(0))
        vd = self.v + self.cm * ((self.vl - self.v) + ij)
        self.i = ij + self.cs * ij
        z = vd > self.vth
        self.v = np.where(z, self.vr, vd).astype(F)
        return z


class LI:  # Norse li step (3.5): LIF without threshold
    def __init__(self, n, dt, tau_syn, tau_mem, v_leak):
        self.cm = F(F(dt) * F(1.0 / float(tau_mem)))
        self.cs = F(F(-dt) * F(1.0 / float(tau_syn)))
        self.vl = F(v_leak)
        self.v = np.full(n, self.vl, F)
        self.i = np.zeros(n, F)

    def step(self, ff):
        ij = (self.i + ff.astype(F)) + F(0)
        self.v = self.v + self.cm * ((self.vl - self.v) + ij)
        self.i = ij + self.cs * ij


class LIFBox:  # Norse LIFBox (3.10), reset_value
    def __init__(self, n, dt, tau, v_leak, v_th, v_reset):
        self.cm = F(F(dt) * F(1.0 / float(tau)))
        self.vl, self.vth, self.vr = F(v_leak), F(v_th), F(v_reset)
        self.v = np.full(n, self.vl, F)

    def step(self, I):
        vd = self.v + self.cm * ((I.astype(F) + self.vl) - self.v)
        z = vd > self.vth
        self.v = np.where(z, self.vr, vd).astype(F)
        return z


class LIBox:  # Norse LIBox (3.5)
    def __init__(self, n, dt, tau, v_leak):
        self.cm = F(F(dt) * F(1.0 / float(tau)))
        self.vl = F(v_leak)
        self.v = np.full(n, self.vl, F)

    def step(self, I):
        self.v = self.v + self.cm * ((self.vl - self.v) + I.astype(F))


class IAF:  # Norse iaf_step (3.7): v^ = (v + W_in x) + W_rec z
    def __init__(self, n, v_th, v_reset):
        self.vth, self.vr = F(v_th), F(v_reset)
        self.v = np.full(n, self.vr, F)

    def step(self, ff, rec=None):
        vd = (self.v + ff.astype(F)) + (rec.astype(F) if rec is not None else F(0))
        z = vd > self.vth
        self.v = np.where(z, self.vr, vd).astype(F)
        return z


# ---------------------------------------------------------------- full.nir

def full(out):
    rng = np.random.default_rng(7)
    T, dt = 60, 0.0005  # --dt 0.5 (ms); NIR times in s
    g = Graph()
    g.add("in.img", "Input", shape=np.array([2, 6, 6]), input_type={"input": np.array([2, 6, 6])})
    g.add("in.seq", "Input", shape=np.array([3, 8]))
    # in.img -> conv2d.a (groups 2, 'same', 0-d stride as a scalar) -> lif.a (CubaLIF, 0-d params)
    w_ca = qw(rng, (4, 1, 3, 3), -250, 400)
    w_ca[0, 0, 1, 1] = 0  # zeros are no synapse
    g.add("conv2d.a", "Conv2d", weight=w_ca, bias=np.zeros(4, F), stride=np.array(1), padding="same",
          dilation=np.array([1, 1]), groups=np.array(2), input_shape=np.array([6, 6]),
          metadata={"note": np.array([1, 2])})
    g.add("lif.a", "CubaLIF", tau_syn=F(0.005), tau_mem=F(0.01), r=F(1), v_leak=F(0), v_threshold=F(0.375),
          v_reset=F(0), w_in=F(1))
    # lif.a -> pool.sum -> conv2d.b (padding 1, dilation 2, bias) -> lifbox (LIF, r = 2, no v_reset)
    w_cb = qw(rng, (3, 4, 2, 2), -200, 600)
    b_cb = np.array([0.125, -0.0625, 0.0], F)
    g.add("pool.sum", "SumPool2d", kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]))
    g.add("conv2d.b", "Conv2d", weight=w_cb, bias=b_cb, stride=np.array([1, 1]), padding=np.array([1, 1]),
          dilation=np.array([2, 2]), groups=np.array(1))
    g.add("lifbox", "LIF", tau=np.full((3, 3, 3), 0.02), r=np.full((3, 3, 3), 2.0), v_leak=np.zeros((3, 3, 3)),
          v_threshold=np.full((3, 3, 3), 0.75))  # float64 parameters, as snnTorch writes them
    # lif.a -> pool.avg -> flat.a -> lin.a -> if.a (IF, r per neuron) <-> lin.rec
    w_la = qw(rng, (6, 100), -100, 120)
    r_if = np.array([1, 0.5, 2, 1, 1, 0.25], F)
    w_rec = qw(rng, (6, 6), -300, 100)
    g.add("pool.avg", "AvgPool2d", kernel_size=np.array([2, 2]), stride=np.array([1, 1]), padding=np.array([0, 0]))
    g.add("flat.a", "Flatten", start_dim=np.array(0), end_dim=np.array(-1), input_type=np.array([4, 5, 5]))
    g.add("lin.a", "Linear", weight=w_la)
    g.add("if.a", "IF", r=r_if, v_threshold=F(1.0), v_reset=np.zeros(6, F))
    g.add("lin.rec", "Linear", weight=w_rec)
    # if.a -> lin.c -> integ (I, r = 0.5) -> out.i
    w_lc = qw(rng, (3, 6), -300, 300)
    g.add("lin.c", "Linear", weight=w_lc)
    g.add("integ", "I", r=F(0.5))
    # in.seq -> conv1d -> flat.b -> aff.a (bias) -> scale.a -> scale.mask (bool) -> cubali (w_in 0.5) -> out.cubali
    w_c1 = qw(rng, (2, 3, 3), -200, 500)
    w_aff = qw(rng, (5, 8), -100, 400)
    b_aff = np.array([0.25, 0, -0.125, 0.5, 0.0625], F)
    s_a = np.array([1, -0.5, 2, 0.25, 1], F)
    mask = np.array([True, True, False, True, True])
    g.add("conv1d", "Conv1d", weight=w_c1, bias=np.zeros(2, F), stride=np.array(2), padding=np.array(1),
          dilation=np.array(1), groups=np.array(1), input_shape=np.array(8))
    g.add("flat.b", "Flatten", start_dim=np.array(0), end_dim=np.array(-1))
    g.add("aff.a", "Affine", weight=w_aff, bias=b_aff)
    g.add("scale.a", "Scale", scale=s_a)
    g.add("scale.mask", "Scale", scale=mask)  # h5py: an HDF5 enum over int8
    g.add("cubali", "CubaLI", tau_syn=F(0.005), tau_mem=F(0.02), r=F(1), v_leak=F(0), w_in=F(0.5))
    # lifbox -> flat.c -> lin.b -> delay.a (one step) -> li (LI) -> out.li
    w_lb = qw(rng, (4, 27), -100, 300)
    g.add("flat.c", "Flatten", start_dim=np.array(0), end_dim=np.array(-1))
    g.add("lin.b", "Linear", weight=w_lb)
    g.add("delay.a", "Delay", delay=np.full(4, dt))
    g.add("li", "LI", tau=F(0.02), r=F(1), v_leak=F(0.25))
    for o, shp in (("out.cubali", [5]), ("out.li", [4]), ("out.i", [3]), ("out.if", [6]), ("out.lif", [4, 6, 6])):
        g.add(o, "Output", shape=np.array(shp), output_type={"output": np.array(shp)})
    g.chain("in.img", "conv2d.a", "lif.a", "pool.sum", "conv2d.b", "lifbox", "flat.c", "lin.b", "delay.a", "li",
            "out.li")
    g.chain("lif.a", "pool.avg", "flat.a", "lin.a", "if.a", "lin.rec", "if.a")
    g.chain("if.a", "lin.c", "integ", "out.i")
    g.chain("in.seq", "conv1d", "flat.b", "aff.a", "scale.a", "scale.mask", "cubali", "out.cubali")
    g.chain("if.a", "out.if")
    g.chain("lif.a", "out.lif")
    write(os.path.join(out, "full.nir"), g, compression="gzip", extras=True)

    inp = (rng.random((T, 96)) < 0.3).astype(np.uint8)
    np.save(os.path.join(out, "input.npy"), inp)

    # Norse's steps, layer by layer, in norn's population order
    lifa = LIF(144, dt, F(0.005), F(0.01), 0, 0.375, 0)
    box = LIFBox(27, dt, 0.02, 0, 0.75, 0)  # float64 tau: 1/0.02 in double, as norn reads it
    iaf = IAF(6, 1.0, 0)
    integ = IAF(3, np.finfo(F).max, 0)
    cub = LI(5, dt, F(0.005), F(0.02), 0)
    li = LIBox(4, dt, F(0.02), 0.25)
    rec = {k: [] for k in ("cubali_v", "cubali_i", "li_v", "integ_v", "if.a_v", "lif.a_v", "lif.a_i")}
    spk = {k: [] for k in ("in.img", "in.seq", "cubali", "lif.a", "if.a", "integ", "lifbox", "li")}
    z_if_prev = np.zeros(6, bool)
    z_box_prev = np.zeros(27, bool)
    for t in range(T):
        x_img = inp[t, :72].reshape(2, 6, 6).astype(float)
        x_seq = inp[t, 72:].reshape(3, 8).astype(float)
        # cubali: w_in r (mask (s (A flat(conv1d(x)) + b)))
        c1 = conv_ref(x_seq[:, None, :], w_c1[:, :, None, :], (1, 2), ((0, 0), (1, 1)), (1, 1), 1)
        I_cub = 0.5 * (mask * (s_a * (w_aff.astype(float) @ c1.reshape(-1) + b_aff)))
        cub.step(I_cub)
        # lif.a
        I_a = conv_ref(x_img, w_ca, (1, 1), (same_pad(3, 1), same_pad(3, 1)), (1, 1), 2)
        z_a = lifa.step(I_a.reshape(-1))
        za = z_a.reshape(4, 6, 6).astype(float)
        # if.a: this step's pool(lif.a), the previous step's own spikes
        I_if = r_if * (w_la.astype(float) @ pool_ref(za, (2, 2), (1, 1), (0, 0), True).reshape(-1))
        I_ifr = r_if * (w_rec.astype(float) @ z_if_prev.astype(float))
        z_if = iaf.step(I_if, I_ifr)
        # integ
        integ.step(0.5 * (w_lc.astype(float) @ z_if.astype(float)))
        # lifbox: r (conv(sumpool(lif.a)) + b)
        cb = conv_ref(pool_ref(za, (2, 2), (2, 2), (0, 0), False), w_cb, (1, 1), ((1, 1), (1, 1)), (2, 2), 1)
        z_box = box.step(2.0 * (cb + b_cb[:, None, None]).reshape(-1))
        # li: the previous step's lifbox spikes (Delay of one step)
        li.step(w_lb.astype(float) @ z_box_prev.astype(float))
        for k, v in (("cubali_v", cub.v), ("cubali_i", cub.i), ("li_v", li.v), ("integ_v", integ.v),
                     ("if.a_v", iaf.v), ("lif.a_v", lifa.v), ("lif.a_i", lifa.i)):
            rec[k].append(v.copy())
        for k, z in (("in.img", inp[t, :72] > 0), ("in.seq", inp[t, 72:] > 0), ("cubali", np.zeros(5, bool)),
                     ("lif.a", z_a), ("if.a", z_if), ("integ", np.zeros(3, bool)), ("lifbox", z_box),
                     ("li", np.zeros(4, bool))):
            spk[k].append(z.copy())
        z_if_prev, z_box_prev = z_if, z_box
    for k, v in rec.items():
        np.save(os.path.join(out, "ref_%s.npy" % k), np.array(v, F))
    counts = {}
    for k, v in spk.items():
        np.save(os.path.join(out, "ref_spikes_%s.npy" % k), np.array(v, np.uint8))
        counts[k] = int(np.sum(v))
    with open(os.path.join(out, "ref_counts.txt"), "w") as f:
        f.write(" ".join("%s=%d" % kv for kv in counts.items()) + "\n")


# ---------------------------------------------------------------- conv / pool expansion

def dense(fn, shape):
    """The chain as a dense [n_out, n_in] matrix, column i = fn(unit vector i)."""
    n = int(np.prod(shape))
    cols = []
    for i in range(n):
        e = np.zeros(n)
        e[i] = 1
        cols.append(fn(e.reshape(shape)).reshape(-1))
    return np.array(cols).T


def convs(out):
    rng = np.random.default_rng(11)
    cases = []

    def conv2d(cin, cout, k, stride, pad, dil, groups, shape, scalar=False):
        w = qw(rng, (cout, cin // groups) + k, -512, 512)
        if pad in ("same", "valid"):
            pp = ((same_pad(k[0], dil[0]), same_pad(k[1], dil[1]))) if pad == "same" else ((0, 0), (0, 0))
        else:
            pp = ((pad[0], pad[0]), (pad[1], pad[1]))
        ds = dict(weight=w, bias=np.zeros(cout, F), padding=pad if isinstance(pad, str) else np.array(pad),
                  stride=np.array(stride[0]) if scalar else np.array(stride),
                  dilation=np.array(dil[0]) if scalar else np.array(dil), groups=np.array(groups))
        return ("Conv2d", ds), lambda x: conv_ref(x, w, stride, pp, dil, groups)

    def conv1d(cin, cout, k, stride, pad, dil, groups):
        w = qw(rng, (cout, cin // groups, k), -512, 512)
        p = same_pad(k, dil) if pad == "same" else (pad, pad)
        ds = dict(weight=w, bias=np.zeros(cout, F), padding=pad if isinstance(pad, str) else np.array(pad),
                  stride=np.array(stride), dilation=np.array(dil), groups=np.array(groups))
        return ("Conv1d", ds), lambda x: conv_ref(x[:, None, :], w[:, :, None, :], (1, stride), ((0, 0), p),
                                                   (1, dil), groups)[:, 0, :]

    def pool(kind, k, stride, pad):
        ds = dict(kernel_size=np.array(k), stride=np.array(stride), padding=np.array(pad))
        return (kind, ds), lambda x: pool_ref(x, k, stride, pad, kind == "AvgPool2d")

    cases.append(((3, 7, 6), [conv2d(3, 4, (3, 2), (2, 1), (1, 0), (1, 2), 1, (3, 7, 6))]))
    cases.append(((4, 5, 5), [conv2d(4, 6, (3, 3), (1, 1), "same", (2, 2), 2, (4, 5, 5), scalar=True)]))
    cases.append(((2, 6, 5), [conv2d(2, 2, (2, 2), (2, 2), "valid", (1, 1), 2, (2, 6, 5))]))
    cases.append(((3, 11), [conv1d(3, 4, 4, 3, 2, 1, 1)]))
    cases.append(((2, 9), [conv1d(2, 4, 3, 1, "same", 3, 2)]))
    cases.append(((3, 5, 7), [pool("SumPool2d", (2, 3), (1, 2), (1, 1))]))
    cases.append(((2, 7, 7), [pool("AvgPool2d", (3, 3), (2, 2), (1, 1))]))
    cases.append(((2, 8, 8), [conv2d(2, 3, (3, 3), (1, 1), (1, 1), (1, 1), 1, (2, 8, 8)),
                              pool("SumPool2d", (2, 2), (2, 2), (0, 0)),
                              conv2d(3, 2, (2, 2), (1, 1), (0, 0), (1, 1), 1, (3, 4, 4))]))
    for k, (shape, ops) in enumerate(cases):
        g = Graph()
        g.add("x", "Input", shape=np.array(shape))
        keys = ["x"]
        fns = []
        for j, ((typ, ds), fn) in enumerate(ops):
            g.add("op%d" % j, typ, **ds)
            keys.append("op%d" % j)
            fns.append(fn)

        def chain(x, fns=fns):
            for fn in fns:
                x = fn(x)
            return x

        m = dense(chain, shape)
        g.add("y", "LI", tau=F(0.01), r=F(1), v_leak=F(0))
        g.add("out", "Output", shape=np.array([m.shape[0]]))
        g.chain(*keys, "y", "out")
        # fixed-length strings in every other file (nir.md: be tolerant of them)
        write(os.path.join(out, "conv_%d.nir" % k), g, fixed=(k % 2 == 1))
        np.save(os.path.join(out, "m_%d.npy" % k), m)
    with open(os.path.join(out, "conv_cases.txt"), "w") as f:
        f.write("%d\n" % len(cases))


# ---------------------------------------------------------------- small and broken files

def small(out):
    rng = np.random.default_rng(3)
    # times in ms
    g = Graph()
    g.add("in", "Input", shape=np.array([4]))
    g.add("w", "Linear", weight=qw(rng, (3, 4), 0, 512))
    g.add("n", "CubaLIF", tau_syn=F(5), tau_mem=F(10), r=F(1), v_leak=F(0), v_threshold=F(1), w_in=F(1))
    g.add("out", "Output", shape=np.array([3]))
    g.chain("in", "w", "n", "out")
    write(os.path.join(out, "ms.nir"), g)
    # no edges at all
    g = Graph()
    g.add("in", "Input", shape=np.array([2]))
    g.add("n", "LIF", tau=np.full(2, 0.01, F), r=np.ones(2, F), v_leak=np.zeros(2, F), v_threshold=np.ones(2, F))
    write(os.path.join(out, "empty_edges.nir"), g)


def base_graph(rng, **override):
    g = Graph()
    g.add("in", "Input", shape=np.array([4]))
    g.add("lin", "Linear", weight=qw(rng, (3, 4), 0, 512))
    g.add("lif1", "LIF", tau=F(0.01), r=F(1), v_leak=F(0), v_threshold=F(1))
    g.add("out", "Output", shape=np.array([3]))
    g.chain("in", "lin", "lif1", "out")
    for k, v in override.items():
        g.nodes[k] = v
    return g


# file -> what test_nir.c expects in the message
ERRORS = {}


def errors(out):
    rng = np.random.default_rng(5)

    def put(name, g, expect, **kw):
        write(os.path.join(out, name), g, **kw)
        ERRORS[name] = expect

    g = base_graph(rng)
    g.add("x", "Foo", weight=np.ones(3))
    g.chain("lif1", "x")
    put("err_unsupported.nir", g, "node 'x' has type 'Foo', not supported (supported: Input, Output, Affine")
    g = base_graph(rng, lif1=("Threshold", {"threshold": np.ones(3, F)}))
    put("err_threshold.nir", g, "node 'lif1' (Threshold): not supported yet")
    g = base_graph(rng, lif1=("LIF", {"r": F(1), "v_leak": F(0), "v_threshold": F(1)}))
    put("err_missing.nir", g, "node 'lif1' (LIF): missing dataset 'tau'")
    g = base_graph(rng)
    g.nodes["lin"] = ("Conv2d", dict(weight=qw(rng, (3, 4, 1), 0, 9), bias=np.zeros(3, F), stride=np.array([1, 1]),
                                     padding=np.array([0, 0]), dilation=np.array([1, 1]), groups=np.array(1)))
    put("err_shape.nir", g, "node 'lin' (Conv2d): weight has 3 dimensions, expected 4")
    g = base_graph(rng)
    g.edges.append(("lin", "nowhere"))
    put("err_edge.nir", g, "edge 3 ('lin' -> 'nowhere'): no node 'nowhere'")
    g = base_graph(rng)
    g.nodes["lin"] = ("Linear", {"weight": qw(rng, (3, 4), 0, 512)})
    write(os.path.join(out, "err_lzf.nir"), g)
    with h5py.File(os.path.join(out, "err_lzf.nir"), "a") as f:
        del f["node/nodes/lin/weight"]
        f["node/nodes/lin"].create_dataset("weight", data=qw(rng, (3, 4), 0, 512), compression="lzf")
    ERRORS["err_lzf.nir"] = "node 'lin' (Linear): weight is compressed with lzf (HDF5 filter 32000)"
    g = base_graph(rng, lin=("Linear", {"weight": qw(rng, (3, 4), 0, 512)}))
    g.nodes["big"] = ("Linear", {"weight": qw(rng, (200, 300), 0, 512)})
    write(os.path.join(out, "err_truncated.nir"), g)
    p = os.path.join(out, "err_truncated.nir")
    with open(p, "rb") as f:
        data = f.read()
    with open(p, "wb") as f:
        f.write(data[:len(data) * 6 // 10])
    ERRORS["err_truncated.nir"] = "truncated or damaged HDF5 file"
    g = base_graph(rng, lif1=("LIF", {"tau": np.array([0.01, 0.02, 0.01], F), "r": F(1), "v_leak": F(0),
                                       "v_threshold": F(1)}))
    put("err_hetero.nir", g, "node 'lif1' (LIF): tau differs between neurons (0.00999999978 at 0, 0.0199999996 at 1)")
    g = base_graph(rng, lif1=("LI", {"tau": F(0.01), "r": F(1), "v_leak": F(0)}))
    g.add("lin2", "Linear", weight=qw(rng, (2, 3), 0, 9))
    g.add("n2", "LIF", tau=F(0.01), r=F(1), v_leak=F(0), v_threshold=F(1))
    g.chain("lif1", "lin2", "n2")
    put("err_voltage.nir", g, "node 'lif1' (LI): outputs a voltage, not spikes")
    g = base_graph(rng)
    g.add("d", "Delay", delay=np.full(3, 0.002))
    g.edges = [("in", "lin"), ("lin", "d"), ("d", "lif1"), ("lif1", "out")]
    put("err_delay.nir", g, "node 'd' (Delay): delay 0.002 s = 2 steps")
    # a nested graph: written by hand (a node group that is itself a NIRGraph)
    g = base_graph(rng)
    write(os.path.join(out, "err_nested.nir"), g)
    with h5py.File(os.path.join(out, "err_nested.nir"), "a") as f:
        sub = f["node/nodes"].create_group("sub")
        sub.create_dataset("type", data="NIRGraph", dtype=STR)
        sub.create_group("nodes")
        sub.create_dataset("edges", data=[])
    ERRORS["err_nested.nir"] = "node 'sub' is a nested NIRGraph"
    # issue 8: an output of 0 values, or of a count that wraps around 2^64
    # to 0 (here (2^32)^2), looked like a shape not yet known, and shape
    # inference looped forever
    g = base_graph(rng, lin=("Linear", {"weight": np.ones((0, 4), F)}))
    put("err_empty.nir", g, "node 'lin' (Linear): its output (0,) would be empty")
    g = base_graph(rng)
    g.nodes["in"] = ("Input", {"shape": np.array([1, 3, 3])})
    g.nodes["lin"] = ("Conv2d", dict(weight=np.ones((1, 1, 2, 2), F), stride=np.array([1, 1]),
                                     padding=np.array([2**31 - 1, 2**31 - 1]), dilation=np.array([1, 1])))
    put("err_wrap.nir", g, "node 'lin' (Conv2d): its output (1, 4294967296, 4294967296) has 2^64 or more values, "
        "more than norn's 2^32 - 1 neurons")
    # issue 8: dilation 1e12 times a kernel of 10^7 overflowed int64 (UB)
    # computing the output size; the weight is never written, so the file
    # stays small
    g = base_graph(rng)
    g.nodes["in"] = ("Input", {"shape": np.array([1, 3, 3])})
    g.nodes["lin"] = ("Conv2d", dict(weight=np.ones((1, 1, 1, 1), F), dilation=np.array([1, 10**12])))
    p = os.path.join(out, "err_dilation.nir")
    write(p, g)
    with h5py.File(p, "a") as f:
        del f["node/nodes/lin/weight"]
        f["node/nodes/lin"].create_dataset("weight", shape=(1, 1, 1, 10**7), dtype=F, chunks=(1, 1, 1, 10**6))
    ERRORS["err_dilation.nir"] = ("node 'lin' (Conv2d): its input (1, 3, 3) is smaller than the dilated kernel: "
                                  "the output would be empty")
    p = os.path.join(out, "err_dilation_same.nir")
    write(p, g)
    with h5py.File(p, "a") as f:
        del f["node/nodes/lin/weight"]
        f["node/nodes/lin"].create_dataset("weight", shape=(1, 1, 1, 10**7), dtype=F, chunks=(1, 1, 1, 10**6))
        f["node/nodes/lin"].create_dataset("padding", data="same", dtype=STR)
    ERRORS["err_dilation_same.nir"] = ("node 'lin' (Conv2d): padding 'same': the dilated kernel (10000000 x "
                                       "1000000000000) is longer than 2^62")
    with open(os.path.join(out, "err_text.nir"), "w") as f:
        f.write("not hdf5\n")
    ERRORS["err_text.nir"] = "not an HDF5 file"
    with open(os.path.join(out, "errors.txt"), "w") as f:
        for k, v in ERRORS.items():
            f.write("%s\t%s\n" % (k, v))


def lists(out):
    dt = [("pre", "<u4"), ("post", "<u4"), ("weight", "<f4")]
    np.save(os.path.join(out, "syn_ok.npy"), np.array([(0, 1, 0.5), (1, 0, 0.25), (0, 1, 0.125), (2, 3, 1.0),
                                                      (1, 2, 0.0)], dt))
    # other field order, int64 and float64, an extra field
    np.save(os.path.join(out, "syn_mixed.npy"), np.array([(0.5, 3, 0, 7), (0.25, 0, 1, 7)],
                                                         [("weight", "<f8"), ("post", "<i8"), ("pre", "<i8"),
                                                          ("tag", "<i2")]))
    np.save(os.path.join(out, "syn_range.npy"), np.array([(0, 1, 0.5), (1, 9, 0.25)], dt))
    np.save(os.path.join(out, "syn_pre_range.npy"), np.array([(0, 1, 0.5), (1, 0, 0.5), (5, 0, 0.25)], dt))
    np.save(os.path.join(out, "syn_nopost.npy"), np.array([(0, 0.5)], [("pre", "<u4"), ("weight", "<f4")]))
    np.save(os.path.join(out, "syn_negative.npy"), np.array([(0, 1, 0.5), (-1, 0, 0.25)],
                                                            [("pre", "<i4"), ("post", "<u4"), ("weight", "<f4")]))
    np.save(os.path.join(out, "syn_delay.npy"), np.array([(0, 1, 0.5, 2.0), (1, 0, 0.25, 1.0), (0, 0, 0.125, 3.0)],
                                                         dt + [("delay", "<f8")]))
    np.save(os.path.join(out, "syn_plain.npy"), np.zeros((3, 3), F))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    full(out)
    convs(out)
    small(out)
    errors(out)
    lists(out)


if __name__ == "__main__":
    main()
