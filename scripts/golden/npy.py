#!/usr/bin/env python3
"""`.npy` fixtures for blockwork-array's tests, written by NumPy.

Run with the reference environment: /tmp/ref/venv/bin/python scripts/golden/npy.py
"""
import os

import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "array", "tests", "fixtures")
i, j = np.indices((13, 9))
np.save(os.path.join(out, "pattern_f8.npy"), ((7 * i + 13 * j) % 101) / 101.0)
np.save(os.path.join(out, "range_i4.npy"), np.arange(-20, 17, dtype=np.int32))
np.save(os.path.join(out, "mask_b1.npy"), ((i * j) % 3 == 0))
np.save(os.path.join(out, "cube_u1.npy"), (np.arange(4 * 5 * 6) % 251).astype(np.uint8).reshape(4, 5, 6))
np.save(os.path.join(out, "scalar_f4.npy"), np.float32(2.5))
with open(os.path.join(out, "pattern_f8.npy"), "rb") as f:
    data = f.read()
with open(os.path.join(out, "truncated.npy"), "wb") as f:
    f.write(data[: len(data) - 17])
print("wrote fixtures to", os.path.normpath(out))
