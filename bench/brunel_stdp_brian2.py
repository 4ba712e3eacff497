#!/usr/bin/python3
"""bench/brunel_stdp_brian2.py - the `brunel_stdp` benchmark network in Brian2 (the peer).

`brunel` (Brunel 2000 model A, as bench/brunel_brian2.py: NE = 10,000,
NI = 2,500, fixed in-degree 1,000 / 250 drawn with numpy, J = 0.1 mV, g = 5,
eta = 2, delay 1.5 ms, inputs arriving while refractory dropped) with
additive pair STDP on the excitatory-to-excitatory synapses, as `brunel_stdp`
in shared/reference/benchmarks.md: tau 20 ms both ways, potentiation step
1% of J, depression 5% stronger, w clipped to [0, 3 J]:

  Synapses(exc, exc, w, Apre, Apost (event-driven),
    on_pre:  v_post += w (if not refractory); Apre += 0.01 J;
             w = clip(w + Apost, 0, 3 J)
    on_post: Apost += -1.05 * 0.01 J; w = clip(w + Apre, 0, 3 J))

The connectivity is brunel_brian2.py's draw (same seed, same calls): its
exc -> all table is cut into exc -> exc (plastic) and exc -> inh (static),
so --static runs brunel_brian2.py's network, split into three Synapses
objects (the "static split network" of benchmarks.md).

Timing convention: Brian2's delay is on the presynaptic pathway (axonal),
so a pre spike meets the traces at t_pre + d; NEST's stdp_synapse (norn's
examples/brunel_stdp.yaml) takes the delay as dendritic, pairing t_pre with
t_post + d. The pairing window is shifted by 2 d = 3 ms between the two; the
work per spike is the same.

Runs in Brian2's cpp_standalone device on one thread: generated and
compiled once (timed separately, cached under /tmp/norn-bench-brian2/), then
the binary is run --repeat times, each timed with os.wait4 (wall, user+sys
CPU, peak RSS of exactly that process).

Prints one JSON object on stdout, as brunel_brian2.py, plus: plastic,
synapses_plastic, plastic_events (sum over exc spikes of the source's
exc -> exc out-degree: presynaptic plastic deliveries), post_updates
(sum over exc spikes of the neuron's exc -> exc in-degree: synapses touched
by on_post), and the final mean E -> E weight (mV) of the last run.
With --out DIR writes DIR/spikes.npy of the last run in norn's format.

Use Debian's interpreter: /usr/bin/python3 bench/brunel_stdp_brian2.py [--static]
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np

sys.dont_write_bytecode = True  # no bench/__pycache__ from importing brunel_brian2
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stats  # noqa: E402
from brunel_brian2 import fixed_indegree  # noqa: E402  (the same draw)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--static", action="store_true", help="no plasticity (the static split network)")
    ap.add_argument("--duration", type=float, default=1000.0, help="ms (default 1000)")
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
    NE, NI = 10000, 2500
    N, CE, CI = NE + NI, 1000, 250
    J, g, eta, D = 0.1, 5.0, 2.0, 1.5
    tau_m, V_th, V_reset, t_ref = 20.0, 20.0, 10.0, 2.0
    nu_th = V_th / (J * CE * tau_m) * 1000.0  # Hz (10 Hz)
    plastic = not a.static

    kind = "plastic" if plastic else "static"
    build_dir = a.build_dir or f"/tmp/norn-bench-brian2/brunel_stdp_{kind}_T{a.duration:g}"
    os.makedirs(build_dir, exist_ok=True)
    b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0
    b2.defaultclock.dt = 0.1 * ms
    b2.seed(a.seed)

    # exactly brunel_brian2.py's draw
    rng = np.random.default_rng(a.seed)
    c0 = time.process_time()
    pre_e, post_e = fixed_indegree(rng, NE, CE, N)
    pre_i, post_i = fixed_indegree(rng, NI, CI, N)
    v0 = rng.uniform(0.0, V_th, size=N)
    to_e = post_e < NE
    pre_ee, post_ee = pre_e[to_e], post_e[to_e]
    pre_ei, post_ei = pre_e[~to_e], post_e[~to_e] - NE
    connect_s = time.process_time() - c0

    ns = {"tau_m": tau_m * ms, "theta": V_th * mV, "V_r": V_reset * mV, "J": J * mV, "g": g,
          "taupre": 20 * ms, "taupost": 20 * ms, "wmax": 3 * J * mV,
          "dApre": 0.01 * J * mV, "dApost": -1.05 * 0.01 * J * mV}
    G = b2.NeuronGroup(N, "dv/dt = -v/tau_m : volt (unless refractory)",
                       threshold="v >= theta", reset="v = V_r",
                       refractory=t_ref * ms, method="exact", namespace=ns)
    G.v = v0 * mV
    E, I = G[:NE], G[NE:]
    if plastic:
        See = b2.Synapses(E, E, """w : volt
                                   dApre/dt = -Apre / taupre : volt (event-driven)
                                   dApost/dt = -Apost / taupost : volt (event-driven)""",
                          on_pre="""v_post += w * int(not_refractory_post)
                                    Apre += dApre
                                    w = clip(w + Apost, 0*volt, wmax)""",
                          on_post="""Apost += dApost
                                     w = clip(w + Apre, 0*volt, wmax)""",
                          delay=D * ms, namespace=ns)
        See.connect(i=pre_ee, j=post_ee)
        See.w = J * mV
    else:
        See = b2.Synapses(E, E, on_pre="v_post += J * int(not_refractory_post)", delay=D * ms, namespace=ns)
        See.connect(i=pre_ee, j=post_ee)
    Sei = b2.Synapses(E, I, on_pre="v_post += J * int(not_refractory_post)", delay=D * ms, namespace=ns)
    Sei.connect(i=pre_ei, j=post_ei)
    Si = b2.Synapses(I, G, on_pre="v_post += -g * J * int(not_refractory_post)", delay=D * ms, namespace=ns)
    Si.connect(i=pre_i, j=post_i)
    P = b2.PoissonInput(G, "v", N=CE, rate=eta * nu_th * Hz, weight="J * int(not_refractory)")
    mon = b2.SpikeMonitor(G)
    net = b2.Network(G, See, Sei, Si, P, mon)
    net.run(a.duration * ms, namespace=ns)

    t0 = time.perf_counter()
    b2.device.build(directory=build_dir, compile=True, run=False, with_output=False)
    codegen_compile_s = time.perf_counter() - t0

    runs = []
    for _ in range(max(1, a.repeat)):
        rc, wall, cpu, rss = stats.run_timed(["./main"], cwd=build_dir)
        if rc != 0:
            raise SystemExit(f"brunel_stdp_brian2.py: {build_dir}/main exited with {rc}")
        with open(os.path.join(build_dir, "results", "last_run_info.txt")) as f:
            loop_s = float(f.read().split()[0])
        runs.append({"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "peak_rss_bytes": rss,
                     "loop_s": round(loop_s, 3)})
    get_device().has_been_run = True  # results/ now holds the last run
    t = np.asarray(mon.t_[:], dtype=np.float64) * 1000.0  # s -> ms
    i = np.asarray(mon.i[:], dtype=np.uint32)
    w_mean = float(np.mean(np.asarray(See.w_[:]))) * 1000.0 if plastic else J  # V -> mV

    outdeg = np.zeros(N, dtype=np.int64)
    outdeg[:NE] = np.bincount(pre_e, minlength=NE)
    outdeg[NE:] = np.bincount(pre_i, minlength=NI)
    events = int(outdeg[i].sum())
    exc_sp = i[i < NE]
    outdeg_ee = np.bincount(pre_ee, minlength=NE)
    indeg_ee = np.bincount(post_ee, minlength=NE)
    dur_s = a.duration / 1000.0

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
        "plastic": plastic, "duration_ms": a.duration, "neurons": N,
        "synapses": int(len(pre_e) + len(pre_i)), "synapses_plastic": int(len(pre_ee)) if plastic else 0,
        "seed": a.seed, "connect_s": round(connect_s, 3), "codegen_compile_s": round(codegen_compile_s, 3),
        "runs": runs, "spikes": int(len(t)), "synaptic_events": events,
        "plastic_events": int(outdeg_ee[exc_sp].sum()) if plastic else 0,
        "post_updates": int(indeg_ee[exc_sp].sum()) if plastic else 0,
        "ee_events": int(outdeg_ee[exc_sp].sum()),
        "w_ee_mean_mV": w_mean,
        "rate_exc_hz": len(exc_sp) / NE / dur_s, "rate_inh_hz": (len(t) - len(exc_sp)) / NI / dur_s,
        "total_wall_s": round(time.perf_counter() - t_start, 3),
        "total_cpu_s": round(me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime, 3),
        "build_dir": build_dir,
    }))


if __name__ == "__main__":
    sys.exit(main())
