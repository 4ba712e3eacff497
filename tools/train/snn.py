"""tools/train/snn.py - the MNIST spiking network, forward pass shared by
train.py (training) and reference.py (the float32 reference for norn).

Every step is Norse's float32 step (shared/reference/norse-semantics.md
sections 0, 3.1, 3.5, 6), which is what norn's `euler` mode computes: one IEEE
float32 operation per elementwise op, in the order written, no fused
multiply-add (torch's CPU elementwise kernels are one rounding per op).
Constants: dt = 0.001 s (1 ms), c_m = fl32(dt) * 100 = 0.1f, c_s = fl32(-dt) *
200 = -0.2f, each one float32 product (section 0.3).

Network, for one sample (shapes without batch), T steps t = 0..T-1:

  encoder (not in the NIR graph): I = (fl32(pixel) / 255) * GAIN  [1,28,28]
    v_e starts at 0; per step: v^ = v_e + c_m*((v_leak - v_e) + I);
    x_t = H(v^ - v_th); v_e = v^ - x_t*(v^ - v_reset)
    (Norse's constant_current_lif_encode, LIFParameters defaults)
  conv1: a1_t = Conv2d(x_t; W1 [8,1,5,5]), no padding, no bias  -> [8,24,24]
  lif1 (Norse LIFCell, defaults): from v = 0, i = 0, per step
    j = i + a_t;  v^ = v + c_m*((v_leak - v) + j);  i = j + c_s*j;
    z_t = H(v^ - v_th) (strict: v^ > 1);  v = z_t ? v_reset : v^
  pool1: SumPool2d(2, stride 2)                                  -> [8,12,12]
  conv2: Conv2d(W2 [16,8,5,5]), no padding, no bias              -> [16,8,8]
  lif2: as lif1                                                  -> [16,8,8]
  pool2: SumPool2d(2, stride 2)                                  -> [16,4,4]
  flatten (C order: index c*16 + y*4 + x) -> [256]; fc: W3 [10,256] -> [10]
  readout (Norse LICell, defaults): from v = 0, i = 0, per step
    j = i + a_t;  v = v + c_m*((v_leak - v) + j);  i = j + c_s*j;  out_t = v
  score_k = max_t out_t[k];  prediction = argmax_k score_k (lowest k on ties)

Exactness: the weights are multiples of 2^-10 with |w| <= 8, and the inputs
of every Conv2d/Linear are small non-negative integers (spikes 0/1, pooled
counts 0..4), so every product and every partial sum is a multiple of 2^-10
below 2^13 in magnitude and is exact in float32: the synaptic input a_t of a
neuron is the same float32 whatever the order or grouping of the sum (dense
conv here, sparse events in norn). forward(..., check=True) verifies this at
every step against float64.
"""

import ctypes

import numpy as np
import torch
import torch.nn.functional as F

DT = 0.001  # s, Norse's dt (1 ms)
T = 32  # steps per sample
GAIN = 4.0  # encoder current for a white pixel (255)
QUANT = 2.0**-10  # weight grid
W_MAX = 8.0  # |w| bound that keeps every sum exact

LIF = dict(tau_syn_inv=200.0, tau_mem_inv=100.0, v_leak=0.0, v_th=1.0, v_reset=0.0)
LI = dict(tau_syn_inv=200.0, tau_mem_inv=100.0, v_leak=0.0)

SHAPES = {"conv1": (8, 1, 5, 5), "conv2": (16, 8, 5, 5), "fc": (10, 256)}

f32 = torch.float32


def keep_heap():
    """glibc: keep freed blocks instead of returning every tensor (tens of
    MB, above the mmap threshold) to the kernel, which costs a page fault
    per 4 KB at the next allocation (a third of the run time went to system
    time). No effect on results."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def _t(x):
    return torch.tensor(x, dtype=f32)


def constants():
    """Norse's step constants as float32 0-d tensors (section 0.3:
    fl32(dt) * tau_inv, one float32 product)."""
    c_m = _t(DT) * _t(LIF["tau_mem_inv"])
    c_s = _t(-DT) * _t(LIF["tau_syn_inv"])
    assert c_m.numpy().view(np.uint32) == 0x3DCCCCCD  # 0.1f
    assert c_s.numpy().view(np.uint32) == 0xBE4CCCCD  # -0.2f
    return c_m, c_s


class SuperSpike(torch.autograd.Function):
    """Heaviside forward (x > 0), SuperSpike surrogate backward
    1/(alpha |x| + 1)^2 (Norse's default method "super", alpha 100)."""

    alpha = 100.0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (SuperSpike.alpha * x.abs() + 1.0) ** 2


def heaviside(x, surrogate):
    return SuperSpike.apply(x) if surrogate else (x > 0).to(x.dtype)


def current(images):
    """images: uint8 [B,28,28] -> encoder current float32 [B,1,28,28]:
    (fl32(p) / 255) * GAIN, a float32 division then a float32 product.
    (For GAIN = 4 and T = 32, p * fl32(1/255) * 4 and (p * 4) / 255 give
    the same encoder spikes for every p in 0..255, see encoder_order_free.)"""
    x = torch.as_tensor(np.asarray(images)).to(f32)
    return ((x / 255.0) * GAIN).unsqueeze(1)


def encode(i_in, steps=T):
    """Norse's constant_current_lif_encode: spikes [steps, B, ...] (0/1)."""
    c_m, _ = constants()
    v_leak, v_th, v_reset = _t(LIF["v_leak"]), _t(LIF["v_th"]), _t(LIF["v_reset"])
    v = torch.zeros_like(i_in)
    out = []
    for _ in range(steps):
        vh = v + c_m * ((v_leak - v) + i_in)
        z = ((vh - v_th) > 0).to(f32)
        v = vh - z * (vh - v_reset)
        out.append(z)
    return torch.stack(out)


def encoder_order_free(steps=T):
    """True if the encoder spike trains of all 256 pixel values are the
    same for the usual float32 orders of p/255*GAIN (so an engine that
    scales differently still gets the same input spikes)."""
    p = torch.arange(256, dtype=f32)
    g = _t(GAIN)
    variants = [
        (p / 255.0) * g,
        (p * (_t(1.0) / _t(255.0))) * g,
        p * (g / _t(255.0)),
        (p * g) / _t(255.0),
        (p * _t(1.0 / 255.0)) * g,
    ]
    ref = encode(variants[0], steps)
    return all(torch.equal(ref, encode(v, steps)) for v in variants[1:])


def quantize(w):
    """Nearest multiple of 2^-10, clamped to [-W_MAX, W_MAX]."""
    return torch.clamp(torch.round(w / QUANT) * QUANT, -W_MAX, W_MAX)


def quantize_ste(w):
    """quantize() forward, identity backward (straight-through)."""
    return w + (quantize(w) - w).detach()


def check_weights(w):
    """Raises unless every weight is a multiple of 2^-10 with |w| <= 8."""
    a = np.asarray(w, dtype=np.float64)
    k = a / QUANT
    if not (np.array_equal(k, np.round(k)) and np.abs(a).max() <= W_MAX):
        raise ValueError("weights are not multiples of 2^-10 within [-8, 8]")


def sumpool2(z):
    """SumPool2d(2, stride 2) over the last two dims (exact: 0/1 inputs)."""
    *lead, h, w = z.shape
    return z.reshape(*lead, h // 2, 2, w // 2, 2).sum(dim=(-3, -1))


def _cell_loop(a, surrogate, spiking):
    """Steps a Norse LIF (spiking) or LI (not) cell over a [T, B, ...] input
    current, from v = v_leak = 0, i = 0. Returns spikes (LIF) or
    voltages (LI), [T, B, ...]."""
    c_m, c_s = constants()
    v_leak, v_th, v_reset = _t(LIF["v_leak"]), _t(LIF["v_th"]), _t(LIF["v_reset"])
    v = torch.zeros_like(a[0])
    i = torch.zeros_like(a[0])
    out = []
    for a_t in a.unbind(0):  # unbind: one backward node, not T selects
        j = i + a_t
        vh = v + c_m * ((v_leak - v) + j)
        i = j + c_s * j
        if spiking:
            z = heaviside(vh - v_th, surrogate)
            zr = z.detach()  # the reset passes no gradient (forward unchanged)
            v = (1 - zr) * vh + zr * v_reset  # exact select: z ? v_reset : vh
            out.append(z)
        else:
            v = vh
            out.append(v)
    return torch.stack(out)


def _exact(lin, x, w, y):
    """Checks y (float32) equals the float64 result of the same linear map:
    true exactly when no float32 rounding happened."""
    y64 = lin(x.double(), w.double())
    if not torch.equal(y.double(), y64):
        raise AssertionError("a float32 synaptic sum was rounded")


def forward(spikes, w, surrogate=False, quant_ste=False, check=False, record=False):
    """spikes: encoder output [T, B, 1, 28, 28]; w: dict conv1/conv2/fc of
    float32 tensors. Returns scores [B, 10] (readout v max over time) and,
    with record=True, a dict of the per-layer spikes [T, B, ...].
    quant_ste: use quantize_ste(w) (training). check: verify every synaptic
    sum is exact (slow; float64 recomputation)."""
    if quant_ste:
        w = {k: quantize_ste(v) for k, v in w.items()}
    steps, b = spikes.shape[:2]

    def conv(x, wt):
        return F.conv2d(x, wt)

    def lin(x, wt):
        return F.linear(x, wt)

    x = spikes.reshape(steps * b, 1, 28, 28)
    a1 = conv(x, w["conv1"])
    if check:
        _exact(conv, x, w["conv1"], a1)
    z1 = _cell_loop(a1.reshape(steps, b, 8, 24, 24), surrogate, True)
    p1 = sumpool2(z1).reshape(steps * b, 8, 12, 12)
    a2 = conv(p1, w["conv2"])
    if check:
        _exact(conv, p1, w["conv2"], a2)
    z2 = _cell_loop(a2.reshape(steps, b, 16, 8, 8), surrogate, True)
    p2 = sumpool2(z2).reshape(steps * b, 256)
    a3 = lin(p2, w["fc"])
    if check:
        _exact(lin, p2, w["fc"], a3)
    vo = _cell_loop(a3.reshape(steps, b, 10), surrogate, False)
    scores = vo.max(dim=0).values
    if record:
        return scores, {"input": spikes, "lif1": z1, "lif2": z2, "readout_v": vo}
    return scores


def predict(scores):
    """argmax over classes, lowest index on ties (numpy's rule)."""
    return np.argmax(np.asarray(scores), axis=1).astype(np.int64)


def fanouts(w):
    """Nonzero synapses leaving each neuron, with pooling and flattening
    folded into the next weights (a pool is a fixed linear map, not a
    population): input [1,28,28] -> conv1; lif1 [8,24,24] -> pool1, conv2;
    lif2 [16,8,8] -> pool2, flatten, fc. Zero weights count as no synapse
    (norn drops them). int64 arrays of the layer shapes."""
    nz1 = (w["conv1"] != 0).double()
    nz2 = (w["conv2"] != 0).double()
    nz3 = (w["fc"] != 0).double()
    f_in = F.conv_transpose2d(torch.ones(1, 8, 24, 24, dtype=torch.float64), nz1)[0]
    f_p1 = F.conv_transpose2d(torch.ones(1, 16, 8, 8, dtype=torch.float64), nz2)[0]
    f_l1 = f_p1.repeat_interleave(2, 1).repeat_interleave(2, 2)
    f_p2 = nz3.sum(0).reshape(16, 4, 4)
    f_l2 = f_p2.repeat_interleave(2, 1).repeat_interleave(2, 2)
    return {k: v.round().long() for k, v in (("input", f_in), ("lif1", f_l1), ("lif2", f_l2))}


def load_weights(folder):
    """conv1.npy, conv2.npy, fc.npy from folder, as float32 tensors."""
    import os

    w = {}
    for k, shape in SHAPES.items():
        a = np.load(os.path.join(folder, k + ".npy"))
        if a.dtype != np.float32 or a.shape != shape:
            raise ValueError("%s.npy: want float32 %s, got %s %s" % (k, shape, a.dtype, a.shape))
        check_weights(a)
        w[k] = torch.from_numpy(a)
    return w
