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
    from dask._task_spec import convert_legacy_graph

    if not isinstance(dsk, Mapping):
        dsk = dsk.__dask_graph__()  # dask ≥ 2025 passes an expression
    graph = convert_legacy_graph(dict(dsk))
    wanted = _flatten(keys)
    missing = [k for k in wanted if k not in graph]
    if missing:
        raise KeyError(f"keys not in the graph: {missing[:5]!r}")
    # The tasks the outputs need, each after its dependencies.
    index: dict[Hashable, int] = {}
    names: list[str] = []
    funcs: list[Any] = []
    deps: list[list[int]] = []
    expanded: set[Hashable] = set()  # waiting for their dependencies: the path from a root
    for root in wanted:
        stack = [root]
        while stack:
            k = stack[-1]
            if k in index:
                stack.pop()
                continue
            node = graph[k]
            missing = [d for d in node.dependencies if d not in index]
            if missing:
                for d in missing:
                    if d not in graph:
                        raise KeyError(f"task {k!r} depends on {d!r}, which is not in the graph")
                    if d in expanded:
                        raise ValueError(f"the graph has a cycle through {d!r}")
                expanded.add(k)
                stack.extend(missing)
                continue
            stack.pop()
            order = list(node.dependencies)
            index[k] = len(names)
            names.append(_key_name(k))
            funcs.append(_runner(node, order))
            deps.append([index[d] for d in order])
    outputs = [index[k] for k in wanted]
    values = _core.compute_tasks(names, funcs, deps, outputs, config.scheduler(scheduler, num_workers))
    return _pack(keys, dict(zip(wanted, values, strict=True)))


def _key_name(k: Hashable) -> str:
    return str(k) if isinstance(k, str) else repr(k)


def _runner(node: Any, order: list[Hashable]) -> Any:
    if not order:
        return lambda: node({})

    def run(*vals: Any) -> Any:
        return node(dict(zip(order, vals, strict=True)))

    return run
