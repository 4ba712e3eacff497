#!/usr/bin/python3
"""Writes the .npy fixtures of tests/test_npy.c with NumPy itself.

Run once with Debian's interpreter (it has python3-numpy):
    /usr/bin/python3 tools/gen_npy_fixtures.py [tests/data/npy]
The files are committed; tests/test_npy.c holds the expected values, written
out independently, so change both together.
"""
import os
import sys

import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "npy")
os.makedirs(out, exist_ok=True)


def save(name, arr, version=None):
    path = os.path.join(out, name)
    with open(path, "wb") as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=False)


# One file per dtype and byte order. 1-byte types have no byte order ('|').
values = {
    "b1": [True, False, True, True, False],
    "i1": [-128, -1, 0, 1, 127],
    "u1": [0, 1, 128, 254, 255],
    "i2": [-32768, -1, 0, 258, 32767],
    "u2": [0, 1, 258, 40000, 65535],
    "i4": [-2147483648, -1, 0, 16909060, 2147483647],
    "u4": [0, 1, 16909060, 3000000000, 4294967295],
    "i8": [-2**63, -1, 0, 0x0102030405060708, 2**63 - 1],
    "u8": [0, 1, 0x0102030405060708, 2**63, 2**64 - 1],
    "f2": [0.0, -0.0, 1.0, -2.5, 65504.0, 2.0**-14, 2.0**-24, 3 * 2.0**-24,
           0.1, float("inf"), float("-inf"), float("nan")],
    "f4": [0.1, -3.5, 3.4028234663852886e38, 2.0**-149, float("inf"),
           float("nan")],
    "f8": [0.1, -2.5e300, 5e-324, float("inf"), float("-inf"), float("nan"),
           3.141592653589793],
}
for code, vals in values.items():
    if code[1] == "1":
        save("dtype_%s.npy" % code, np.array(vals, dtype="|" + code))
    else:
        save("dtype_%s_le.npy" % code, np.array(vals, dtype="<" + code))
        save("dtype_%s_be.npy" % code, np.array(vals, dtype=">" + code))

# Fortran order: C-order values 0, 1, 2, ...
save("fortran_2d_f8.npy",
     np.asfortranarray(np.arange(12, dtype="<f8").reshape(3, 4)))
save("fortran_3d_i2be.npy",
     np.asfortranarray(np.arange(24, dtype=">i2").reshape(2, 3, 4)))

# Version 2.0 and 3.0 headers (uint32 header length).
save("v2_f8.npy", np.array([1.5, -2.0, 3.25], dtype="<f8"), version=(2, 0))
save("v3_spikes.npy",
     np.array([(0.25, 7, 1.0), (0.5, 2, 2.0)],
              dtype=[("time_ms", "<f8"), ("neuron", "<u4"),
                     ("\u30cb\u30e5\u30fc\u30ed\u30f3", "<f4")]),
     version=(3, 0))

# 0-d and empty arrays.
save("scalar_f8.npy", np.array(3.5, dtype="<f8"))
save("scalar_i2be.npy", np.array(-7, dtype=">i2"))
save("empty_0x3_i4.npy", np.zeros((0, 3), dtype="<i4"))

# Structured spikes: fields in another order, extra fields (one a subarray).
save("spikes_reordered.npy",
     np.array([(3, 0.5, (1, 2, 3), 0.5), (0, 0.25, (4, 5, 6), 1.25),
               (65535, 1.0, (7, 8, 9), 2.0), (7, -1.0, (0, 0, 0), 10.75)],
              dtype=[("neuron", "<u2"), ("weight", "<f4"),
                     ("pos", "<f4", (3,)), ("time_ms", "<f4")]))
# Big-endian fields, signed neuron ids at the top of the range.
save("spikes_be_i8.npy",
     np.array([(0.1, 1), (0.2, 4294967294)],
              dtype=[("time_ms", ">f8"), ("neuron", ">i8")]))
# Aligned: NumPy writes the padding as ('', '|V7').
save("spikes_aligned.npy",
     np.array([(5, 1.5), (9, 2.5)],
              dtype=np.dtype([("neuron", "u1"), ("time_ms", "<f8")],
                             align=True)))
# Integer times.
save("spikes_int_time.npy",
     np.array([(10, 1), (20, 2)],
              dtype=[("time_ms", "<i4"), ("neuron", "<u8")]))
# Plain arrays: [n, 2] (C and Fortran order) and 1-D times.
save("spikes_2col_f8.npy", np.array([[0.5, 1.0], [1.5, 2.0]], dtype="<f8"))
save("spikes_2col_fortran_i4.npy",
     np.asfortranarray(np.array([[1, 2], [3, 4], [5, 6]], dtype="<i4")))
save("spikes_times_f4.npy", np.array([0.5, 0.75, 3.0], dtype="<f4"))
# A negative neuron id, to be refused.
save("spikes_negative.npy",
     np.array([(1.0, 3), (2.0, -1)], dtype=[("time_ms", "<f8"), ("neuron", "<i4")]))
