#!/usr/bin/python3
"""bench/stdp_song_brian2.py - the `stdp_song` benchmark in Brian2 (the peer).

Song, Miller & Abbott (2000) exactly as `stdp_song` in
shared/reference/benchmarks.md and Brian2's examples/synapses/STDP.py:
1,000 PoissonGroup inputs at 15 Hz, all onto one neuron
  dv/dt = (ge (E_e - v) + E_L - v) / tau_m,  dge/dt = -ge / tau_e
(tau_m = 10 ms, E_e = 0, E_L = -74 mV, threshold v > -54 mV, reset -60 mV,
no refractoriness, tau_e = 5 ms, ge in units of the leak; forward Euler, as
the example), weights uniform in [0, gmax], gmax = 0.01, additive all-to-all
pair STDP with event-driven traces (tau 20 ms both; a presynaptic spike adds
0.01 gmax to Apre and applies Apost, a postsynaptic spike adds
-1.05 * 0.01 gmax to Apost and applies Apre; w clipped to [0, gmax]); no
synaptic delay. Resolution 0.1 ms, 100 s. One difference from the example:
v starts at E_L (the example starts at 0 mV, so it fires at t = 0), as
norn's examples/stdp_song.yaml does.

Runs in Brian2's cpp_standalone device on one thread: generated and
compiled once (timed separately, cached under /tmp/norn-bench-brian2/), then
the binary is run --repeat times, each timed with os.wait4 (wall, user+sys
CPU, peak RSS of exactly that process).

Prints one JSON object on stdout:
  codegen_compile_s; runs: [{wall_s, cpu_s, peak_rss_bytes, loop_s}]
  (loop_s = Brian2's own timing of the run); input_spikes, output_spikes,
  rate_in_hz, rate_out_hz of the last run; final w/gmax statistics
  (frac_below_0.05, frac_above_0.95, frac_mid_0.25_0.75, mean) and a
  histogram of w/gmax in 20 bins; snapshots of w/gmax every --every ms
  (fractions and mean at each time).
With --out DIR writes DIR/weights_song.npy in norn's format (structured
pre, post uint32, weight float32, time_ms float64; weight in nS with
g_L = 10 nS, i.e. 10 x the leak units, the unit of examples/stdp_song.yaml)
with the snapshots and the final weights, and DIR/spikes.npy of the output
neuron (neuron id 1000, as norn numbers it after the 1,000 inputs).

Use Debian's interpreter: /usr/bin/python3 bench/stdp_song_brian2.py
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stats  # noqa: E402

N_IN = 1000
GMAX = 0.01          # units of the leak conductance
G_L_NS = 10.0        # norn's examples/stdp_song.yaml: g_L = 10 nS


def wstats(x):
    """Fractions and mean of w/gmax values x."""
    x = np.asarray(x, dtype=np.float64)
    return {"frac_below_0.05": float(np.mean(x < 0.05)), "frac_above_0.95": float(np.mean(x > 0.95)),
            "frac_mid_0.25_0.75": float(np.mean((x >= 0.25) & (x <= 0.75))), "mean": float(np.mean(x))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=100000.0, help="ms (default 100000)")
    ap.add_argument("--every", type=float, default=10000.0,
                    help="weight snapshots every MS (default 10000; 0: final only)")
    ap.add_argument("--seed", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=1, help="runs of the compiled binary")
    ap.add_argument("--method", default="euler", help="Brian2 state updater (default euler, as the example)")
    ap.add_argument("--out", help="write weights_song.npy and spikes.npy of the last run here")
    ap.add_argument("--build-dir", help="Brian2 project directory (default under /tmp)")
    a = ap.parse_args()

    t_start = time.perf_counter()
    import brian2 as b2
    from brian2 import ms, mV, Hz
    from brian2.devices.device import get_device

    b2.BrianLogger.log_level_warn()
    build_dir = a.build_dir or f"/tmp/norn-bench-brian2/stdp_song_T{a.duration:g}_e{a.every:g}_{a.method}"
    os.makedirs(build_dir, exist_ok=True)
    b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0
    b2.defaultclock.dt = 0.1 * ms
    b2.seed(a.seed)

    ns = {"taum": 10 * ms, "taupre": 20 * ms, "taupost": 20 * ms, "Ee": 0 * mV, "vt": -54 * mV,
          "vr": -60 * mV, "El": -74 * mV, "taue": 5 * ms, "gmax": GMAX,
          "dApre": 0.01 * GMAX, "dApost": -0.01 * 1.05 * GMAX}
    inp = b2.PoissonGroup(N_IN, rates=15 * Hz)
    neuron = b2.NeuronGroup(1, """dv/dt = (ge * (Ee - v) + El - v) / taum : volt
                                  dge/dt = -ge / taue : 1""",
                            threshold="v > vt", reset="v = vr", method=a.method, namespace=ns)
    neuron.v = -74 * mV
    S = b2.Synapses(inp, neuron,
                    """w : 1
                       dApre/dt = -Apre / taupre : 1 (event-driven)
                       dApost/dt = -Apost / taupost : 1 (event-driven)""",
                    on_pre="""ge += w
                              Apre += dApre
                              w = clip(w + Apost, 0, gmax)""",
                    on_post="""Apost += dApost
                               w = clip(w + Apre, 0, gmax)""",
                    namespace=ns)
    S.connect()
    S.w = "rand() * gmax"
    objs = [inp, neuron, S]
    mon_out = b2.SpikeMonitor(neuron)
    mon_in = b2.SpikeMonitor(inp, record=False)   # counts only
    objs += [mon_out, mon_in]
    wmon = None
    if a.every > 0:
        # a StateMonitor samples at the start of a step: t = 0, every, 2 every, ...;
        # the final weights are read from S.w after the run
        wmon = b2.StateMonitor(S, "w", record=np.arange(N_IN), dt=a.every * ms)
        objs.append(wmon)
    net = b2.Network(*objs)
    net.run(a.duration * ms, namespace=ns)

    t0 = time.perf_counter()
    b2.device.build(directory=build_dir, compile=True, run=False, with_output=False)
    codegen_compile_s = time.perf_counter() - t0

    runs = []
    for _ in range(max(1, a.repeat)):
        rc, wall, cpu, rss = stats.run_timed(["./main"], cwd=build_dir)
        if rc != 0:
            raise SystemExit(f"stdp_song_brian2.py: {build_dir}/main exited with {rc}")
        with open(os.path.join(build_dir, "results", "last_run_info.txt")) as f:
            loop_s = float(f.read().split()[0])
        runs.append({"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "peak_rss_bytes": rss,
                     "loop_s": round(loop_s, 3)})
    get_device().has_been_run = True  # results/ now holds the last run

    w_final = np.asarray(S.w[:], dtype=np.float64)
    pre = np.asarray(S.i[:], dtype=np.uint32)
    post = np.asarray(S.j[:], dtype=np.uint32)
    t_out = np.asarray(mon_out.t_[:], dtype=np.float64) * 1000.0
    n_in = int(mon_in.num_spikes)
    snaps = []
    if wmon is not None:
        ws = np.asarray(wmon.w[:], dtype=np.float64)      # [synapses, samples]
        ts = np.asarray(wmon.t_[:], dtype=np.float64) * 1000.0
        # the sample at t = k every is the state after the events of the step ending there
        for k in range(len(ts)):
            snaps.append((ts[k], ws[:, k]))
    snaps.append((a.duration, w_final))

    if a.out:
        os.makedirs(a.out, exist_ok=True)
        rows = []
        for t, w in snaps:
            r = np.empty(len(w), dtype=[("pre", "<u4"), ("post", "<u4"), ("weight", "<f4"), ("time_ms", "<f8")])
            r["pre"], r["post"], r["weight"], r["time_ms"] = pre, post, w * G_L_NS, t
            rows.append(r)
        np.save(os.path.join(a.out, "weights_song.npy"), np.concatenate(rows))
        rec = np.empty(len(t_out), dtype=[("time_ms", "<f8"), ("neuron", "<u4")])
        rec["time_ms"], rec["neuron"] = np.sort(t_out), N_IN
        np.save(os.path.join(a.out, "spikes.npy"), rec)

    dur_s = a.duration / 1000.0
    xf = w_final / GMAX
    hist, _ = np.histogram(np.clip(xf, 0, 1), bins=20, range=(0.0, 1.0))
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "simulator": f"brian2 {b2.__version__} cpp_standalone, 1 thread, {a.method}",
        "duration_ms": a.duration, "seed": a.seed, "synapses": int(len(w_final)),
        "codegen_compile_s": round(codegen_compile_s, 3), "runs": runs,
        "input_spikes": n_in, "output_spikes": int(len(t_out)),
        "rate_in_hz": n_in / N_IN / dur_s, "rate_out_hz": len(t_out) / dur_s,
        "final": wstats(xf), "hist20": hist.tolist(),
        "snapshots": [{"time_ms": float(t), **wstats(w / GMAX)} for t, w in snaps],
        "total_wall_s": round(time.perf_counter() - t_start, 3),
        "total_cpu_s": round(me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime, 3),
        "build_dir": build_dir,
    }))


if __name__ == "__main__":
    sys.exit(main())
