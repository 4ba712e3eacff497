#!/usr/bin/python3
"""bench/coba_brian2.py - the `coba` benchmark network in Brian2 2.5.1 (the peer).

Vogels & Abbott (2005), Brette et al. (2007) benchmark 1, as
shared/reference/benchmarks.md defines it; cpp_standalone, one thread,
compiled once, the binary run --repeat times. See bench/va_brian2.py for the
model, the options and the JSON it prints.

  /usr/bin/python3 bench/coba_brian2.py [--duration MS] [--repeat R] [--delay MS]
                   [--method M] [--seed S] [--out DIR] [--quick]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
import va_brian2  # noqa: E402

if __name__ == "__main__":
    sys.exit(va_brian2.main("coba"))
