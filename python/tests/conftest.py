"""Shared strategies (random shapes, chunkings and arrays) and helpers."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st


@st.composite
def shapes_and_chunks(draw: Any, min_dims: int = 1, max_dims: int = 3, max_side: int = 12) -> Any:
    """A shape and a chunking of it: a block length per axis or explicit block lengths."""
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims)))
    chunks = []
    for n in shape:
        if draw(st.booleans()):
            chunks.append(draw(st.integers(1, n)))
        else:
            cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=3))) if n > 1 else []
            edges = [0, *cuts, n]
            chunks.append(tuple(b - a for a, b in itertools.pairwise(edges)))
    return shape, tuple(chunks)


def numpy_array(draw: Any, shape: tuple[int, ...], dtype: str = "float64") -> np.ndarray:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith("int") or dtype.startswith("uint"):
        return rng.integers(1, 50, shape).astype(dtype)
    return (rng.random(shape) * 10 - 5).astype(dtype)


def run_interrupted(code: str) -> str:
    """Runs `code` in a fresh interpreter; it prints "interrupted SECONDS"
    (or "finished SECONDS"), then one more line. Checks the run was
    interrupted within 5 s and returns that next line."""
    # A shell runs background jobs with SIGINT ignored, and Python then keeps
    # it ignored: the child restores Python's own handler first.
    prelude = "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
    out = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.split("\n")[:2]
    word, seconds = first.split()
    assert word == "interrupted", out.stdout
    assert float(seconds) < 5.0, out.stdout
    return second


def s3_bucket(prefix: str) -> tuple[str, dict[str, str]]:
    """A new bucket on the local S3-compatible server `scripts/test` starts,
    and the `storage_options` that reach it; skips when there is none
    (fails when `BLOCKWORK_REQUIRE_S3` says there must be one)."""
    import pytest

    endpoint = os.environ.get("BLOCKWORK_S3_ENDPOINT")
    if not endpoint:
        if os.environ.get("BLOCKWORK_REQUIRE_S3"):
            raise AssertionError("BLOCKWORK_REQUIRE_S3 is set but BLOCKWORK_S3_ENDPOINT is not")
        pytest.skip("no S3-compatible server (scripts/test starts one)")
    host, port = endpoint.removeprefix("http://").rstrip("/").split(":")
    bucket = f"{prefix}-{os.getpid()}"
    with socket.create_connection((host, int(port))) as s:
        s.sendall(f"PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        assert s.recv(100).startswith(b"HTTP/1.1 200")
    return bucket, {"key": "testing", "secret": "testing", "endpoint_url": endpoint, "region": "us-east-1"}


def s3_put(options: dict[str, str], bucket: str, key: str, data: bytes) -> None:
    """Uploads an object with a plain HTTP request (the test server does not check signatures)."""
    import http.client

    host, port = options["endpoint_url"].removeprefix("http://").rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port))
    conn.request("PUT", f"/{bucket}/{key}", body=data)
    reply = conn.getresponse()
    assert reply.status == 200, (key, reply.status, reply.read())
    conn.close()


def blockwork_binary() -> Path:
    """The `blockwork` command built by the Rust tests (the README's test
    command builds it before this suite runs)."""
    root = Path(__file__).resolve().parents[2]
    found = os.environ.get("BLOCKWORK_BIN") or str(root / "target" / "debug" / "blockwork")
    if not Path(found).exists():
        pytest.fail(f"{found} is missing: run `cargo build -p blockwork-cli` (or set BLOCKWORK_BIN)")
    return Path(found)


def _no_skips(report: Any) -> None:
    """Where the test command provides everything (`BLOCKWORK_NO_SKIPS`,
    set by scripts/test), a skipped test or module fails, saying why it
    skipped."""
    if os.environ.get("BLOCKWORK_NO_SKIPS") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped where nothing may be: {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    outcome = yield
    _no_skips(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: Any) -> Any:
    outcome = yield
    _no_skips(outcome.get_result())
