"""Ctrl-C during compute cancels the run and raises KeyboardInterrupt promptly."""

from __future__ import annotations

import textwrap

from conftest import run_interrupted


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
    second = run_interrupted(code)
    assert float(second) == 100.0
