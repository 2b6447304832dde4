"""Dask graphs on blockwork's scheduler: `dask.compute(x, scheduler=blockwork.get)`.

Any Dask collection (arrays, dataframes, bags, delayed) computes on
blockwork's threaded scheduler: the graph is ordered and scheduled in Rust
without the GIL, and each task takes the GIL only while its Python code
runs. Supported: Dask ≥ 2024.12 (graphs of `dask._task_spec` nodes; older
tuple-style tasks are converted by Dask's `convert_legacy_graph`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from blockwork import _core, config

__all__ = ["get"]


def _flatten(keys: Any) -> list[Hashable]:
    out: list[Hashable] = []
    stack = [keys]
    while stack:
        k = stack.pop()
        if isinstance(k, list):
            stack.extend(reversed(k))
        else:
            out.append(k)
    return out


def _pack(keys: Any, results: dict[Hashable, Any]) -> Any:
    if isinstance(keys, list):
        return [_pack(k, results) for k in keys]
    return results[keys]


def get(
    dsk: Mapping[Hashable, Any], keys: Any, scheduler: str | None = None, num_workers: int | None = None, **kwargs: Any
) -> Any:
    """Dask's scheduler entry point: computes `keys` (a key or nested lists
    of keys) of the graph `dsk` and returns their values in that shape."""
    from dask._task_spec import _execute_subgraph, convert_legacy_graph

    if not isinstance(dsk, Mapping):
        dsk = dsk.__dask_graph__()  # dask ≥ 2025 passes an expression
    graph = convert_legacy_graph(dict(dsk))
    wanted = _flatten(keys)
    scheduler_ = config.scheduler(scheduler, num_workers)
    values = _core.compute_dask_graph(graph, wanted, _execute_subgraph, _subgraph_runner, scheduler_)
    return _pack(keys, dict(zip(wanted, values, strict=True)))


def _subgraph_runner(node: Any, order: tuple[Hashable, ...]) -> Any:
    """Runs a task of fused tasks (`_execute_subgraph(inner, outkey, inkeys,
    *inputs)`, what Dask's blockwise fusion makes) in an order found once,
    here, rather than by `dask.order` on every call."""
    from dask._task_spec import GraphNode, TaskRef

    inner, outkey, inkeys = node.args[:3]
    inputs = node.args[3:]
    steps: list[tuple[Hashable, Any]] = []  # (key, node): an inner node's own key may be None
    seen: set[Hashable] = set(inkeys)
    stack: list[tuple[Hashable, bool]] = [(outkey, False)]
    while stack:  # depth first: a task after the inner tasks it reads
        k, ready = stack.pop()
        if ready:
            steps.append((k, inner[k]))
            continue
        if k in seen:
            continue
        seen.add(k)
        stack.append((k, True))
        stack.extend((d, False) for d in inner[k].dependencies if d not in seen)

    def run(*vals: Any) -> Any:
        values = dict(zip(order, vals, strict=True))
        cache = {
            k: values[a.key] if isinstance(a, TaskRef) else a(values) if isinstance(a, GraphNode) else a
            for k, a in zip(inkeys, inputs, strict=True)
        }
        for k, t in steps:
            cache[k] = t(cache)
        return cache[outkey]

    return run
