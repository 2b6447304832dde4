"""The dashboard in a real browser: headless Chromium (Debian's `chromium`,
which the README's test command installs) opens the scheduler's page while
a computation runs, through the DevTools protocol; the task stream draws
bars for each worker, the progress moves, the workers table fills, and a
screenshot is saved. A stream of 100k tasks is drawn with its frame time
shown."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websocket

import blockwork
import blockwork.array as da
from blockwork.distributed import Client, LocalCluster

#: Where the screenshots go (the README's picture is one of them).
SHOTS = Path(os.environ.get("BLOCKWORK_SCREENSHOTS", Path(__file__).resolve().parents[2] / "target" / "screenshots"))


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("no chromium on PATH: the README's test command installs Debian's chromium (apt-get install chromium)")


class Browser:
    """Headless Chromium driven over the DevTools protocol."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.profile = tempfile.mkdtemp(prefix="bw-chromium-")
        args = [_chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
        args += [f"--remote-debugging-port={port}", f"--user-data-dir={self.profile}", "--window-size=1400,1000"]
        self.proc = subprocess.Popen([*args, "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                    pages = [t for t in json.load(r) if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "chromium did not start its DevTools endpoint"
            time.sleep(0.1)
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.next_id = 0

    def call(self, method: str, **params: Any) -> Any:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]

    def eval(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def browser() -> Iterator[Browser]:
    b = Browser()
    try:
        yield b
    finally:
        b.close()


def wait_for(b: Browser, expression: str, what: str, timeout: float = 60) -> Any:
    """Waits until `expression` is truthy. Right after a navigation the old
    document (or none) may still be there, where the expression throws:
    that counts as not yet, until the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = b.eval(expression)
        except RuntimeError:
            if time.monotonic() >= deadline:
                raise
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what} ({expression})"
        time.sleep(0.1)


#: Pixels of the task-stream canvas that are drawn on.
DRAWN = """(() => { const c = document.getElementById('stream');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; })()"""


def test_the_dashboard_follows_a_computation(browser: Browser) -> None:
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address="127.0.0.1:0") as cluster:
        link = cluster.dashboard_link
        assert link is not None and link.startswith("http://127.0.0.1:") and link.endswith("/status")
        with Client(cluster, set_as_default=False) as client:
            assert client.dashboard_link == link
            browser.call("Page.enable")
            browser.call("Page.navigate", url=link)
            wait_for(browser, "document.querySelectorAll('#workers tbody tr').length === 2", "the workers table")
            # The graph view draws the tasks the scheduler holds.
            held = client.persist(da.ones((40,), chunks=4) + 1)
            wait_for(browser, "+document.getElementById('graph').dataset.nodes >= 10", "the graph view")
            del held

            @blockwork.delayed
            def slow(i: int) -> int:
                time.sleep(0.02)
                return i

            x = da.random.random((2000, 2000), chunks=(100, 100))
            work = [blockwork.delayed(sum)([slow(i) for i in range(150)]), x.sum()]
            result: dict[str, Any] = {}
            run = threading.Thread(target=lambda: result.update(v=client.gather(client.compute(work))))
            run.start()
            first = int(wait_for(browser, "+document.getElementById('n-finished').textContent", "finished tasks"))
            later = int(
                wait_for(
                    browser,
                    f"+document.getElementById('n-finished').textContent > {first}"
                    " && +document.getElementById('n-finished').textContent",
                    "the progress to move",
                )
            )
            assert later > first
            run.join(timeout=300)
            assert result["v"][0] == sum(range(150))
            n = 150 + 1 + 400
            wait_for(browser, f"+document.getElementById('n-finished').textContent >= {n - 50}", "every task shown")
            # Bars for each worker, in colors by prefix, and progress rows.
            assert browser.eval("new Set(rec.worker).size") == 2
            assert browser.eval(DRAWN) > 1000
            prefixes = browser.eval("[...document.querySelectorAll('#progress tbody tr')].map(r => r.dataset.prefix)")
            assert any(p.startswith("slow") for p in prefixes), prefixes
            assert "tasks over" in browser.eval("document.getElementById('span').textContent")
            # Transfers between the workers are drawn too (reported once a second).
            wait_for(browser, "prefixes.includes('transfer')", "transfers in the task stream", timeout=10)
            browser.screenshot(SHOTS / "dashboard.png")


def test_the_task_stream_draws_100k_tasks(browser: Browser) -> None:
    with LocalCluster(n_workers=0, dashboard_address="127.0.0.1:0") as cluster:
        assert cluster.dashboard_link is not None
        browser.call("Page.navigate", url=cluster.dashboard_link)
        wait_for(browser, "typeof apply === 'function' && document.readyState === 'complete'", "the page")
        # 100k tasks on 8 workers of 4 threads, pushed as the scheduler would.
        frame_ms = browser.eval("""(() => {
            const workers = [...Array(8).keys()].map(i => ({id: i, name: 'w' + i, nthreads: 4, processing: 0,
                keys_held: 0, nbytes: 0, memory_limit: 0, retiring: false,
                memory: {managed: 0, unmanaged: 0, spilled: 0}}));
            const records = [];
            for (let i = 0; i < 100000; i++) {
                const w = i % 8, start = Math.floor(i / 8) * 100;
                records.push([i % 5, w, start, start + 90]);
            }
            const system = {rss_bytes: 0, cpu_seconds: 0, loop_lag_seconds: {last: 0, mean: 0, max: 0}};
            apply({prefixes: ['a', 'b', 'c', 'd', 'e'], records, progress: [], workers, system});
            for (let k = 0; k < 5; k++) draw();
            return +document.getElementById('frame').dataset.ms;
        })()""")
        print(f"task stream of 100k tasks: {frame_ms:.1f} ms per frame")
        assert browser.eval("rec.stop.length") == 100000
        assert browser.eval(DRAWN) > 10000
        assert frame_ms < 500, f"{frame_ms} ms per frame at 100k tasks"
        browser.screenshot(SHOTS / "dashboard-100k.png")


def test_a_performance_report_opens_offline(browser: Browser, tmp_path: Path) -> None:
    from blockwork.distributed import performance_report

    report = tmp_path / "report.html"
    with LocalCluster(n_workers=2, dashboard_address="127.0.0.1:0") as cluster, Client(cluster):
        before = da.ones((100,), chunks=10).sum().compute()
        with performance_report(filename=report):
            assert da.arange(400, chunks=20).sum().compute() == sum(range(400))
        assert before == 100
    with pytest.raises(RuntimeError, match="no client"), performance_report(filename=tmp_path / "x.html"):
        pass
    html = report.read_text()
    assert 'id="report-data"' in html and "http://" not in html.split('id="report-data"')[0]
    browser.call("Page.navigate", url=report.as_uri())
    wait_for(browser, "document.readyState === 'complete'", "the report")
    assert browser.eval("document.querySelector('header h1').textContent") == "blockwork performance report"
    # Only what ran inside the block: the arange sum's tasks.
    prefixes = browser.eval("[...document.querySelectorAll('#prefix-time tbody tr')].map(r => r.dataset.prefix)")
    assert prefixes and all(p.startswith(("arange", "sum")) for p in prefixes), prefixes
    assert browser.eval(DRAWN) > 100
    assert not browser.eval("document.getElementById('memory-section').hidden")
    browser.screenshot(SHOTS / "performance-report.png")


def test_a_workers_page_shows_its_tasks_and_log(browser: Browser) -> None:
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address="127.0.0.1:0") as cluster:
        link = cluster.dashboard_link
        assert link is not None
        with Client(cluster, set_as_default=False) as client:

            @blockwork.delayed
            def fails() -> int:
                raise ValueError("boom from a task")

            with pytest.raises(ValueError, match="boom from a task"):
                client.gather(client.compute(fails()))
            assert client.gather(client.compute(da.arange(400, chunks=20).sum())) == sum(range(400))
            # The failure reaches its worker's page with the next heartbeat.
            base = link.removesuffix("/status")

            def page(name: str) -> dict[str, Any]:
                with urllib.request.urlopen(f"{base}/api/v1/workers/{urllib.parse.quote(name, safe='')}") as r:
                    return dict(json.load(r))

            with urllib.request.urlopen(f"{base}/api/v1/workers") as r:
                names = [w["name"] for w in json.load(r)]
            deadline = time.monotonic() + 30
            while True:
                told = {n for n in names if any("boom from a task" in line for _, line in page(n)["logs"])}
                if told:
                    break
                assert time.monotonic() < deadline, "no worker's page shows the failure"
                time.sleep(0.1)
            assert len(told) == 1, told
            # The main page links each worker's name to its page.
            browser.call("Page.navigate", url=link)
            wait_for(browser, "document.querySelectorAll('#workers tbody tr a').length === 2", "the worker links")
            links = browser.eval(
                "[...document.querySelectorAll('#workers tbody tr a')].map(a => [a.textContent, a.href])"
            )
            assert sorted(n for n, _ in links) == sorted(names)
            for name, href in links:
                browser.call("Page.navigate", url=href)
                wait_for(browser, "document.getElementById('log').textContent.includes('joined')", "the log lines")
                # Its own row only, with its CPU use; its own bars only.
                assert browser.eval("document.querySelectorAll('#workers tbody tr').length") == 1
                cpu = browser.eval("document.querySelector('#workers tbody td:nth-child(3)').textContent")
                assert cpu.endswith("%"), cpu
                assert browser.eval("new Set(rec.worker).size") <= 1
                assert not browser.eval("document.getElementById('log-section').hidden")
                assert browser.eval("document.getElementById('graph-section').hidden")
                has_it = browser.eval("document.getElementById('log').textContent.includes('boom from a task')")
                assert has_it == (name in told), (name, told)
                if has_it:
                    wait_for(browser, f"rec.stop.length === 0 || {DRAWN} > 0", "its tasks drawn")
                    browser.screenshot(SHOTS / "dashboard-worker.png")
