"""Ctrl-C during compute cancels the run and raises KeyboardInterrupt promptly."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_keyboard_interrupt_cancels_compute() -> None:
    code = textwrap.dedent(
        """
        import os, signal, threading, time
        import blockwork.array as da
        x = da.random.default_rng(0).random((60000, 60000), chunks=2000)
        t0 = time.perf_counter()
        threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:
            x.sum().compute()
            print("finished", time.perf_counter() - t0)
        except KeyboardInterrupt:
            print("interrupted", time.perf_counter() - t0)
        # The engine is usable afterwards.
        print(da.ones((10, 10), chunks=5).sum().compute())
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.split("\n")[:2]
    word, seconds = first.split()
    assert word == "interrupted", out.stdout
    assert float(seconds) < 5.0, out.stdout
    assert float(second) == 100.0
