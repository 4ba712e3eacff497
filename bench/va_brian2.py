"""bench/va_brian2.py - the `cuba` and `coba` networks in Brian2 (the peer);
run through bench/cuba_brian2.py and bench/coba_brian2.py.

Vogels & Abbott (2005) as in Brette et al. (2007), benchmarks 2 (cuba) and
1 (coba), exactly as shared/reference/benchmarks.md defines them, in the
form of Brian2's own CUBA example and COBA benchmark:
  4,000 neurons, 0-3,199 excitatory, 3,200-3,999 inhibitory; Synapses(P, P)
  connected with p = 0.02 for every ordered pair (autapses included),
  `i < 3200` excitatory and `i >= 3200` inhibitory; tau_m = 20 ms,
  tau_e = 5 ms, tau_i = 10 ms, V_th = -50 mV (`v > V_th`), V_reset = -60 mV,
  refractory 5 ms (v clamped, `unless refractory`; ge, gi go on), no delay
  (delivery within the step, the definition's) unless --delay; dt 0.1 ms,
  1 s, no external input.
  cuba: dv/dt = (ge + gi - (v - E_L)) / tau_m, E_L = -49 mV, ge, gi in mV,
        +1.62 mV / -9 mV per spike, v0 uniform in [-60, -50] mV,
        ge = gi = 0; method `exact` (Brian2's example).
  coba: dv/dt = (ge (E_e - v) + gi (E_i - v) - (v - E_L)) / tau_m,
        E_L = -60, E_e = 0, E_i = -80 mV, ge, gi in units of the leak,
        +0.6 / +6.7 per spike, v0 = E_L + 5 N(0,1) - 5 mV,
        ge0 = 4 + 1.5 N(0,1), gi0 = 20 + 12 N(0,1); method
        `exponential_euler` (--method to change it).

cpp_standalone, one thread. The project is generated and compiled once
(cached under /tmp/norn-bench-brian2/), then the binary (which draws the
connectivity itself, seeded) is run --repeat times, each timed on its own
(wall, user+sys CPU and peak RSS of exactly that process: runner.run_timed,
which does not count this script's own memory).
Prints one JSON object on stdout, as brunel_brian2.py does: codegen_compile_s,
runs [{wall_s, cpu_s, peak_rss_bytes, loop_s}], spikes, rate_exc_hz,
rate_inh_hz, cv_isi, synaptic_events (sum over spikes of the source's
out-degree), synapses. --out DIR writes DIR/spikes.npy of the last run in
norn's format (time_ms float64, neuron uint32, sorted by time).

Use Debian's interpreter: /usr/bin/python3 bench/cuba_brian2.py [--quick]
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402
import stats  # noqa: E402

NE, NI = 3200, 800
N = NE + NI


def main(model):
    assert model in ("cuba", "coba")
    ap = argparse.ArgumentParser(description=f"the `{model}` benchmark network in Brian2")
    ap.add_argument("--duration", type=float, default=1000.0, help="ms (default 1000)")
    ap.add_argument("--seed", type=int, default=2005)
    ap.add_argument("--repeat", type=int, default=1, help="runs of the compiled binary")
    ap.add_argument("--delay", type=float, default=0.0,
                    help="synaptic delay in ms (default 0: the definition's, within the step; "
                         "0.1 is norn's least delay)")
    ap.add_argument("--method", default="exact" if model == "cuba" else "exponential_euler")
    ap.add_argument("--out", help="write spikes.npy of the last run here")
    ap.add_argument("--build-dir", help="Brian2 project directory (default under /tmp)")
    ap.add_argument("--quick", action="store_true", help="duration 200 ms")
    a = ap.parse_args()
    if a.quick:
        a.duration = 200.0

    t_start = time.perf_counter()
    import brian2 as b2
    from brian2 import ms, mV
    from brian2.devices.device import get_device

    b2.BrianLogger.log_level_warn()
    build_dir = a.build_dir or (
        f"/tmp/norn-bench-brian2/{model}_T{a.duration:g}_d{a.delay:g}_{a.method}_s{a.seed}")
    os.makedirs(build_dir, exist_ok=True)
    b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0
    b2.defaultclock.dt = 0.1 * ms
    b2.seed(a.seed)

    ns = {"taum": 20 * ms, "taue": 5 * ms, "taui": 10 * ms, "Vt": -50 * mV, "Vr": -60 * mV}
    if model == "cuba":
        ns.update(El=-49 * mV, we=60 * 0.27 / 10 * mV, wi=-20 * 4.5 / 10 * mV)
        eqs = """dv/dt = (ge + gi - (v - El)) / taum : volt (unless refractory)
                 dge/dt = -ge / taue : volt
                 dgi/dt = -gi / taui : volt"""
    else:
        ns.update(El=-60 * mV, Ee=0 * mV, Ei=-80 * mV, we=6 / 10.0, wi=67 / 10.0)
        eqs = """dv/dt = (ge * (Ee - v) + gi * (Ei - v) - (v - El)) / taum : volt (unless refractory)
                 dge/dt = -ge / taue : 1
                 dgi/dt = -gi / taui : 1"""
    P = b2.NeuronGroup(N, eqs, threshold="v > Vt", reset="v = Vr", refractory=5 * ms,
                       method=a.method, namespace=ns)
    if model == "cuba":
        P.v = "Vr + rand() * (Vt - Vr)"
        P.ge = 0 * mV
        P.gi = 0 * mV
    else:
        P.v = "El + (randn() * 5 - 5) * mV"
        P.ge = "randn() * 1.5 + 4"
        P.gi = "randn() * 12 + 20"
    Ce = b2.Synapses(P, P, on_pre="ge += we", delay=a.delay * ms, namespace=ns)
    Ci = b2.Synapses(P, P, on_pre="gi += wi", delay=a.delay * ms, namespace=ns)
    Ce.connect("i < 3200", p=0.02)
    Ci.connect("i >= 3200", p=0.02)
    mon = b2.SpikeMonitor(P)
    net = b2.Network(P, Ce, Ci, mon)
    net.run(a.duration * ms, namespace=ns)

    t0 = time.perf_counter()
    b2.device.build(directory=build_dir, compile=True, run=False, with_output=False)
    codegen_compile_s = time.perf_counter() - t0

    runs = []
    for _ in range(max(1, a.repeat)):
        rc, wall, cpu, rss = runner.run_timed(["./main"], cwd=build_dir)
        if rc != 0:
            raise SystemExit(f"{model}_brian2.py: {build_dir}/main exited with {rc}")
        with open(os.path.join(build_dir, "results", "last_run_info.txt")) as f:
            loop_s = float(f.read().split()[0])
        runs.append({"wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                     "peak_rss_bytes": rss, "loop_s": round(loop_s, 3)})
    get_device().has_been_run = True  # results/ now holds the last run
    t = np.asarray(mon.t_[:], dtype=np.float64) * 1000.0  # s -> ms
    i = np.asarray(mon.i[:], dtype=np.uint32)
    pre_e = np.asarray(Ce.i[:], dtype=np.int64)
    pre_i = np.asarray(Ci.i[:], dtype=np.int64)
    outdeg = np.bincount(pre_e, minlength=N) + np.bincount(pre_i, minlength=N)
    events = int(outdeg[i].sum())
    dur_s = a.duration / 1000.0
    n_exc = int((i < NE).sum())

    if a.out:
        os.makedirs(a.out, exist_ok=True)
        order = np.lexsort((i, t))
        rec = np.empty(len(t), dtype=[("time_ms", "<f8"), ("neuron", "<u4")])
        rec["time_ms"], rec["neuron"] = t[order], i[order]
        np.save(os.path.join(a.out, "spikes.npy"), rec)

    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "simulator": f"brian2 {b2.__version__} cpp_standalone, 1 thread",
        "model": model, "method": a.method, "delay_ms": a.delay,
        "duration_ms": a.duration, "neurons": N,
        "synapses": int(len(pre_e) + len(pre_i)), "seed": a.seed,
        "connect_s": 0.0,  # drawn inside the binary, in its CPU s
        "codegen_compile_s": round(codegen_compile_s, 3),
        "runs": runs,
        "spikes": int(len(t)), "synaptic_events": events,
        "rate_exc_hz": n_exc / NE / dur_s, "rate_inh_hz": (len(t) - n_exc) / NI / dur_s,
        "cv_isi": stats.mean_cv_isi(t, i.astype(np.int64)),
        "total_wall_s": round(time.perf_counter() - t_start, 3),
        "total_cpu_s": round(me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime, 3),
        "build_dir": build_dir,
    }))
    return 0
