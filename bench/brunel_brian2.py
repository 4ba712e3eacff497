#!/usr/bin/python3
"""bench/brunel_brian2.py - the `brunel` benchmark network in Brian2 (the peer).

Brunel (2000) model A exactly as `brunel` in shared/reference/benchmarks.md:
NE = 10,000, NI = 2,500, fixed in-degree CE = 1,000 / CI = 250 drawn with
numpy (distinct sources per target, autapses allowed), delta synapses
(J = 0.1 mV, -g*J), delay 1.5 ms, tau_m = 20 ms, V_th = 20 mV,
V_reset = 10 mV, t_ref = 2 ms, E_L = 0, V(0) uniform in [0, V_th),
external drive PoissonInput(N=CE, rate=eta*nu_th, weight=J) per neuron;
inputs arriving while refractory are dropped (as NEST). Resolution 0.1 ms.

Runs in Brian2's cpp_standalone device on one thread. The project is
generated and compiled once (timed separately: Brian2 only rewrites changed
files, so a second invocation with the same parameters does not recompile),
then the compiled binary is run --repeat times; each run is timed on its own
with os.wait4 (wall, user+sys CPU and peak RSS of exactly that process).

Prints one JSON object on stdout:
  connect_s        numpy connectivity generation (CPU s of this process)
  codegen_compile_s wall s of code generation + compilation (0-ish if cached)
  runs: [{wall_s, cpu_s, peak_rss_bytes, loop_s}]  loop_s = Brian2's own
                   timing of the simulation loop (device._last_run_time);
                   cpu_s/wall_s/peak_rss are the whole simulation process
                   (loading the synapses, building its queue, the loop,
                   writing the monitors)
  spikes, rate_exc_hz, rate_inh_hz, synaptic_events (sum over spikes of the
  source's out-degree), synapses, ...
With --out DIR writes DIR/spikes.npy (structured: time_ms float64, neuron
uint32, sorted by time, like norn) of the last run.

Use Debian's interpreter: /usr/bin/python3 bench/brunel_brian2.py [--quick]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stats  # noqa: E402


def fixed_indegree(rng, n_src, k, n_tgt):
    """For each of n_tgt targets, k distinct sources uniform in [0, n_src).

    Draws with replacement, then redraws duplicates until every row is
    distinct. The procedure is symmetric in the source labels, so every
    k-subset is equally likely. Returns (pre, post) int32 arrays, k per target.
    """
    src = rng.integers(0, n_src, size=(n_tgt, k), dtype=np.int32)
    while True:
        src.sort(axis=1)
        dup = np.zeros_like(src, dtype=bool)
        dup[:, 1:] = src[:, 1:] == src[:, :-1]
        nd = int(dup.sum())
        if nd == 0:
            break
        src[dup] = rng.integers(0, n_src, size=nd, dtype=np.int32)
    post = np.repeat(np.arange(n_tgt, dtype=np.int32), k)
    return src.ravel(), post


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eta", type=float, default=2.0)
    ap.add_argument("--g", type=float, default=5.0)
    ap.add_argument("--duration", type=float, default=1000.0, help="ms (default 1000)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply NE, NI (default 1)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--repeat", type=int, default=1, help="runs of the compiled binary")
    ap.add_argument("--out", help="write spikes.npy of the last run here")
    ap.add_argument("--build-dir", help="Brian2 project directory (default under /tmp)")
    ap.add_argument("--quick", action="store_true", help="duration 200 ms")
    a = ap.parse_args()
    if a.quick:
        a.duration = 200.0

    t_start = time.perf_counter()
    import brian2 as b2
    from brian2 import ms, mV, Hz
    from brian2.devices.device import get_device

    b2.BrianLogger.log_level_warn()
    NE, NI = int(round(10000 * a.scale)), int(round(2500 * a.scale))
    N, CE, CI = NE + NI, 1000, 250
    J, g, eta, D = 0.1, a.g, a.eta, 1.5
    tau_m, V_th, V_reset, t_ref = 20.0, 20.0, 10.0, 2.0
    nu_th = V_th / (J * CE * tau_m) * 1000.0  # Hz (10 Hz)

    build_dir = a.build_dir or (
        f"/tmp/norn-bench-brian2/brunel_eta{eta:g}_g{g:g}_N{N}_T{a.duration:g}"
    )
    os.makedirs(build_dir, exist_ok=True)
    b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0
    b2.defaultclock.dt = 0.1 * ms
    b2.seed(a.seed)

    rng = np.random.default_rng(a.seed)
    c0 = time.process_time()
    pre_e, post_e = fixed_indegree(rng, NE, CE, N)
    pre_i, post_i = fixed_indegree(rng, NI, CI, N)
    v0 = rng.uniform(0.0, V_th, size=N)
    connect_s = time.process_time() - c0

    ns = {"tau_m": tau_m * ms, "theta": V_th * mV, "V_r": V_reset * mV,
          "J": J * mV, "g": g}
    G = b2.NeuronGroup(N, "dv/dt = -v/tau_m : volt (unless refractory)",
                       threshold="v >= theta", reset="v = V_r",
                       refractory=t_ref * ms, method="exact", namespace=ns)
    G.v = v0 * mV
    # inputs arriving while refractory are dropped, as in NEST
    Se = b2.Synapses(G[:NE], G, on_pre="v_post += J * int(not_refractory_post)",
                     delay=D * ms, namespace=ns)
    Se.connect(i=pre_e, j=post_e)
    Si = b2.Synapses(G[NE:], G, on_pre="v_post += -g * J * int(not_refractory_post)",
                     delay=D * ms, namespace=ns)
    Si.connect(i=pre_i, j=post_i)
    P = b2.PoissonInput(G, "v", N=CE, rate=eta * nu_th * Hz,
                        weight="J * int(not_refractory)")
    mon = b2.SpikeMonitor(G)
    net = b2.Network(G, Se, Si, P, mon)
    net.run(a.duration * ms, namespace=ns)

    t0 = time.perf_counter()
    b2.device.build(directory=build_dir, compile=True, run=False, with_output=False)
    codegen_compile_s = time.perf_counter() - t0

    runs = []
    for _ in range(max(1, a.repeat)):
        rc, wall, cpu, rss = stats.run_timed(["./main"], cwd=build_dir)
        if rc != 0:
            raise SystemExit(f"brunel_brian2.py: {build_dir}/main exited with {rc}")
        with open(os.path.join(build_dir, "results", "last_run_info.txt")) as f:
            loop_s = float(f.read().split()[0])
        runs.append({"wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                     "peak_rss_bytes": rss, "loop_s": round(loop_s, 3)})
    get_device().has_been_run = True  # results/ now holds the last run
    t = np.asarray(mon.t_[:], dtype=np.float64) * 1000.0  # s -> ms
    i = np.asarray(mon.i[:], dtype=np.uint32)

    outdeg = np.zeros(N, dtype=np.int64)
    outdeg[:NE] = np.bincount(pre_e, minlength=NE)
    outdeg[NE:] = np.bincount(pre_i, minlength=NI)
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
        "eta": eta, "g": g, "duration_ms": a.duration, "neurons": N,
        "synapses": int(len(pre_e) + len(pre_i)), "seed": a.seed,
        "connect_s": round(connect_s, 3),
        "codegen_compile_s": round(codegen_compile_s, 3),
        "runs": runs,
        "spikes": int(len(t)), "synaptic_events": events,
        "rate_exc_hz": n_exc / NE / dur_s, "rate_inh_hz": (len(t) - n_exc) / NI / dur_s,
        "total_wall_s": round(time.perf_counter() - t_start, 3),
        "total_cpu_s": round(me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime, 3),
        "build_dir": build_dir,
    }))


if __name__ == "__main__":
    sys.exit(main())
