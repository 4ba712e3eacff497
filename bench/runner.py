"""bench/runner.py - running norn and the Brian2 peers for bench/all, bench/scale
and bench/callgrind (stats.py has the statistics and the machine line).

norn is built once per invocation (meson setup BUILD --buildtype=release;
ninja -C BUILD) unless an executable is given. Every run is a child process
timed with os.wait4 (wall, user+sys CPU) and GNU time (the peak RSS of
exactly that program: see run_timed);
norn's own figures come from DIR/run.json. Use Debian's /usr/bin/python3.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import stats  # noqa: E402

PY = "/usr/bin/python3"  # Debian's, with numpy and brian2




def run_timed(cmd, cwd=None, stdout=subprocess.DEVNULL, stderr=None):
    """stats.run_timed: the program's own peak RSS, through GNU time."""
    return stats.run_timed(cmd, cwd=cwd, stdout=stdout, stderr=stderr)


def norn_exe(build_dir="build", exe=None):
    """Path to norn: exe as given, or BUILD/norn built (release) if needed."""
    if exe:
        return os.path.abspath(exe)
    if os.environ.get("MESON_BUILD_ROOT"):  # a meson run_target: norn is already built
        return os.path.join(os.environ["MESON_BUILD_ROOT"], "norn")
    if not os.path.exists(os.path.join(build_dir, "build.ninja")) and \
            not os.path.exists(os.path.join(ROOT, build_dir, "build.ninja")):
        subprocess.run(["meson", "setup", build_dir, "--buildtype=release"], cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", build_dir], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    path = build_dir if os.path.isabs(build_dir) else os.path.join(ROOT, build_dir)
    return os.path.join(path, "norn")


def norn_run(exe, desc, out, mode=None, duration=None, label="norn", extra=()):
    """One `norn run`, timed. Returns {wall_s, cpu_s, peak_rss_bytes, info}
    (info = run.json). Exits the script with norn's stderr on failure."""
    cmd = [exe, "run", desc, "-o", out, "--quiet", "--force"]
    if mode:
        cmd += ["--mode", mode]
    if duration is not None:
        cmd += ["--duration", f"{duration:g}"]
    cmd += list(extra)
    with tempfile.TemporaryFile() as err:
        rc, wall, cpu, rss = run_timed(cmd, cwd=ROOT, stderr=err)
        if rc != 0:
            err.seek(0)
            sys.stderr.write(err.read().decode(errors="replace"))
            raise SystemExit(f"{label}: {' '.join(cmd)} exited with {rc}")
    with open(os.path.join(out, "run.json")) as f:
        info = json.load(f)
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_bytes": rss, "info": info}


def brian_json(cmd, label="brian2"):
    """Runs a Brian2 peer script (a list: script and its arguments) with
    Debian's python and returns the JSON object of its last stdout line."""
    full = [PY] + list(cmd)
    p = subprocess.run(full, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr[-4000:])
        raise SystemExit(f"{label}: {' '.join(full)} exited with {p.returncode}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def mem_available():
    """MemAvailable in bytes (None if unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def med(runs, key):
    return stats.median([r.get(key) for r in runs])
