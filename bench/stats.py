"""bench/stats.py - shared helpers for the benchmark scripts (numpy only).

spike statistics from a norn-format spikes.npy (structured: time_ms float64,
neuron uint32), the machine description, and timing of a child process.
Use Debian's interpreter (/usr/bin/python3), which has numpy.
"""
import datetime
import os
import subprocess
import tempfile
import time

import numpy as np


def load_spikes(path):
    """(times_ms float64, neurons int64) from a norn spikes.npy."""
    rec = np.load(path)
    return np.asarray(rec["time_ms"], dtype=np.float64), np.asarray(rec["neuron"], dtype=np.int64)


def rate_hz(neurons, first, size, duration_ms):
    """Mean rate of neurons first..first+size-1 over duration_ms."""
    n = int(((neurons >= first) & (neurons < first + size)).sum())
    return n / size / (duration_ms / 1000.0)


def mean_cv_isi(times, neurons, min_spikes=3):
    """Mean over neurons with >= min_spikes spikes of std(ISI)/mean(ISI)
    (population std, ddof 0); NaN if no neuron qualifies."""
    if len(times) == 0:
        return float("nan")
    order = np.lexsort((times, neurons))
    t, n = times[order], neurons[order]
    isi = np.diff(t)
    same = n[1:] == n[:-1]
    isi, owner = isi[same], n[1:][same]
    if len(isi) == 0:
        return float("nan")
    ids, inv, cnt = np.unique(owner, return_inverse=True, return_counts=True)
    s1 = np.bincount(inv, weights=isi)
    s2 = np.bincount(inv, weights=isi * isi)
    keep = cnt >= (min_spikes - 1)
    if not keep.any():
        return float("nan")
    m = s1[keep] / cnt[keep]
    var = np.maximum(s2[keep] / cnt[keep] - m * m, 0.0)
    return float(np.mean(np.sqrt(var) / m))


def machine():
    """One line: CPU model, nproc, loadavg, date."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
    except OSError:
        load = "unknown"
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return f"{model}, nproc {os.cpu_count()}, loadavg {load}, {date}"


def _wait4_timed(cmd, cwd=None, stdout=subprocess.DEVNULL, stderr=None):
    """Runs cmd; (exit code, wall s, user+sys CPU s, maxrss bytes) from os.wait4."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=stdout, stderr=stderr)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024


GNU_TIME = "/usr/bin/time"


def run_timed(cmd, cwd=None, stdout=subprocess.DEVNULL, stderr=None):
    """Runs cmd to completion. Returns (exit code, wall s, user+sys CPU s,
    peak RSS bytes) of exactly that program. Linux keeps a process's maxrss
    across fork and execve, so a child forked from this Python process would
    report at least this process's own peak; the program is therefore
    started through GNU time (a ~2 MB process), which reports its child's
    maxrss (%M). Wall and CPU come from os.wait4 (time's own share is ~1 ms).
    Without /usr/bin/time: os.wait4's figures, an upper bound for the RSS."""
    if not os.access(GNU_TIME, os.X_OK):
        return _wait4_timed(cmd, cwd=cwd, stdout=stdout, stderr=stderr)
    fd, path = tempfile.mkstemp(prefix="norn-bench-rss-")
    os.close(fd)
    try:
        rc, wall, cpu, rss = _wait4_timed([GNU_TIME, "-q", "-f", "%M", "-o", path] + list(cmd), cwd=cwd,
                                          stdout=stdout, stderr=stderr)
        try:
            with open(path) as f:
                rss = int(f.read().split()[-1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
    finally:
        os.unlink(path)
    return rc, wall, cpu, rss


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return float("nan")
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else 0.5 * (xs[m - 1] + xs[m])
