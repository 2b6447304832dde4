#!/usr/bin/env python3
"""Golden values for blockwork-array's tests, computed by NumPy.

Inputs use the benchmark's deterministic fill, which NumPy reproduces
exactly: x[i, j] = ((7 i + 13 j) mod 101) / 101 (1-d: (i mod 101) / 101).
Writes crates/array/tests/golden/pattern.json. Run with the reference
environment: /tmp/ref/venv/bin/python scripts/golden/arrays.py
"""
import json
import os

import numpy as np


def pattern(shape):
    if len(shape) == 1:
        return (np.arange(shape[0]) % 101) / 101.0
    i, j = np.indices(shape)
    return ((7 * i + 13 * j) % 101) / 101.0


cases = {}
for n in (7, 50, 123):
    x = pattern((n, n))
    v = pattern((n,))
    cases[f"xxt_{n}"] = float(((x + x.T) - x.mean(axis=0)).sum())
    cases[f"dot_std_{n}"] = float((x.dot(x.T + 1) - x.mean()).std())
    cases[f"mean_axis0_{n}"] = x.mean(axis=0).tolist()
    cases[f"var_axis1_ddof1_{n}"] = x.var(axis=1, ddof=1).tolist()
    cases[f"std_all_{n}"] = float(x.std())
    cases[f"cumsum_axis1_last_row_{n}"] = np.cumsum(x, axis=1)[-1].tolist()
    cases[f"exp_minus_sqrt_sum_{n}"] = float((np.exp(x) - np.sqrt(x + 1.0)).sum())
    cases[f"max_min_{n}"] = [float(x.max()), float(x.min())]
    cases[f"argmax_argmin_axis0_{n}"] = [x.argmax(axis=0).tolist(), x.argmin(axis=0).tolist()]
    cases[f"slice_sum_{n}"] = float(x[1::3, ::-2].sum())
    cases[f"vector_{n}"] = [float(v.sum()), float((v * v).mean()), float(np.round(v * 10).sum())]

out = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "array", "tests", "golden", "pattern.json")
with open(out, "w") as f:
    json.dump({"numpy": np.__version__, "cases": cases}, f, indent=1, sort_keys=True)
print("wrote", os.path.normpath(out))
