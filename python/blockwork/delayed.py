"""`blockwork.delayed`: lazy Python calls as a task graph, as `dask.delayed`.

    from blockwork import delayed

    @delayed
    def inc(x):
        return x + 1

    total = delayed(sum)([inc(i) for i in range(10)])
    total.compute()            # 55, run on blockwork's threads

Calls record tasks; nothing runs until `compute`. Arguments may hold
delayed values anywhere inside lists, tuples, sets and dicts. Operators,
attribute access, indexing and calls on a delayed value are delayed too.
Tasks run on the engine's threads; each takes the GIL only while its
Python code runs.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import operator
import os
import pickle
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from blockwork import _core, config
from blockwork._names import funcname as _funcname
from blockwork.array.core import Array

__all__ = ["Delayed", "compute_delayed", "delayed", "tokenize"]


def tokenize(*args: Any) -> str:
    """A deterministic token of the arguments (random when they cannot be pickled)."""
    try:
        data = pickle.dumps(args, protocol=5)
    except Exception:
        return uuid.uuid4().hex
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# Keys of impure calls: unique in this process and across processes.
_PREFIX = os.urandom(6).hex()
_counter = itertools.count()


class Delayed(_core.DelayedBase):
    """A value a task graph will compute: a call recorded, not run.

    Made as `Delayed(key, func, args, kwargs)`; the engine keeps the data
    (`_key`, `_func`, `_args`, `_kwargs`, `_deps`, `_direct`) and finds the
    delayed values among the arguments.
    """

    __slots__ = ()

    @property
    def key(self) -> str:
        """The task's key."""
        return self._key

    @property
    def dask_key_name(self) -> str:
        """The task's key (Dask's name)."""
        return self._key

    def compute(self, scheduler: Any = None, num_workers: int | None = None, **kwargs: Any) -> Any:
        """Runs the graph and returns the value."""
        return compute_delayed([self], scheduler, num_workers)[0]

    def persist(self, scheduler: Any = None, num_workers: int | None = None, **kwargs: Any) -> Delayed:
        """Computes the value and returns a delayed value holding it, under the same key."""
        value = self.compute(scheduler, num_workers)
        return Delayed(self._key, None, (value,), {})

    def __repr__(self) -> str:
        return f"Delayed({self._key!r})"

    def visualize(self, filename: str = "mydask.dot") -> None:
        """Writes the task graph behind this value as Graphviz dot."""
        write_dot([self], filename)

    def __hash__(self) -> int:
        return hash(self._key)

    def __bool__(self) -> bool:
        raise TypeError("the truth value of a Delayed object is not known until it is computed")

    def __iter__(self) -> Iterator[Any]:
        raise TypeError("Delayed objects of unknown length are not iterable")

    def __getattr__(self, attr: str) -> Delayed:
        if attr.startswith("_"):
            raise AttributeError(f"'Delayed' object has no attribute {attr!r}")
        return _call(getattr, (self, attr), {}, pure=True)

    def __getitem__(self, index: Any) -> Delayed:
        return _call(operator.getitem, (self, index), {}, pure=True)

    def __call__(self, *args: Any, **kwargs: Any) -> Delayed:
        return _call(_apply, (self, args, kwargs), {}, pure=False)


def _apply(f: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return f(*args, **kwargs)


def _operator(op: Callable[..., Any], reflected: bool = False) -> Callable[..., Delayed]:
    def method(self: Delayed, *other: Any) -> Delayed:
        args = (other[0], self) if reflected else (self, *other)
        return _call(op, args, {}, pure=True)

    method.__name__ = f"__{'r' if reflected else ''}{op.__name__.strip('_')}__"
    return method


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_", "xor",
              "lshift", "rshift"):  # fmt: skip
    _op = getattr(operator, _name)
    _bare = _name.rstrip("_")
    setattr(Delayed, f"__{_bare}__", _operator(_op))
    setattr(Delayed, f"__r{_bare}__", _operator(_op, reflected=True))
for _name in ("lt", "le", "gt", "ge", "eq", "ne", "neg", "pos", "abs", "invert"):
    setattr(Delayed, f"__{_name}__", _operator(getattr(operator, _name)))


def _substitute(obj: Any, values: dict[str, Any]) -> Any:
    if isinstance(obj, Delayed):
        return values[obj._key]
    if isinstance(obj, (list, tuple, set, frozenset)):
        return type(obj)(_substitute(x, values) for x in obj)
    if isinstance(obj, dict):
        return {k: _substitute(v, values) for k, v in obj.items()}
    return obj


def _lift_arrays(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Blockwork arrays among a call's arguments become tasks that compute
    them, so the function gets NumPy arrays (as with Dask's arrays)."""

    def lift(x: Any) -> Any:
        return Delayed(f"compute-{x.name}", _compute_array, (x,), {}) if type(x) is Array else x

    return tuple(lift(a) for a in args), {k: lift(v) for k, v in kwargs.items()}


def _compute_array(x: Array) -> Any:
    return x.compute()


def _call(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    pure: bool | None = None,
    dask_key_name: str | None = None,
    nout: int | None = None,
) -> Delayed:
    if dask_key_name is not None:
        key = str(dask_key_name)
    elif pure:
        key = f"{_funcname(func)}-{tokenize(func, args, kwargs)}"
    else:
        key = f"{_funcname(func)}-{_PREFIX}{next(_counter):x}"
    if nout is None:
        return Delayed(key, func, args, kwargs)
    out = _DelayedTuple(key, func, args, kwargs)
    out._nout = int(nout)
    return out


class _DelayedTuple(Delayed):
    """A call known to return `nout` values (`delayed(f, nout=2)`): it
    unpacks into that many delayed values, as in dask."""

    __slots__ = ("_nout",)

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(self._nout))

    def __len__(self) -> int:
        return self._nout


class DelayedFunction:
    """A function whose calls are recorded as tasks (`delayed(f)`)."""

    def __init__(self, func: Callable[..., Any], pure: bool | None = None, nout: int | None = None) -> None:
        self._func = func
        self._pure = pure
        self._nout = nout
        self.__name__ = _funcname(func)
        self.__doc__ = getattr(func, "__doc__", None)

    def __call__(
        self, *args: Any, dask_key_name: str | None = None, pure: bool | None = None, **kwargs: Any
    ) -> Delayed:
        for a in args:
            if type(a) is Array:
                args, kwargs = _lift_arrays(args, kwargs)
                break
        else:
            if kwargs and any(type(v) is Array for v in kwargs.values()):
                args, kwargs = _lift_arrays(args, kwargs)
        if dask_key_name is None and not (self._pure if pure is None else pure) and self._nout is None:
            return Delayed(f"{self.__name__}-{_PREFIX}{next(_counter):x}", self._func, args, kwargs)
        pure = self._pure if pure is None else pure
        return _call(self._func, args, kwargs, pure=bool(pure), dask_key_name=dask_key_name, nout=self._nout)

    def __repr__(self) -> str:
        return f"delayed({self.__name__})"


def delayed(
    obj: Any = None,
    name: str | None = None,
    pure: bool | None = None,
    nout: int | None = None,
    traverse: bool = True,
    dask_key_name: str | None = None,
) -> Any:
    """Wraps a function (its calls become tasks) or a value (a task's literal).

    As a decorator: `@delayed` or `@delayed(pure=True)`. `pure=True` gives
    equal calls one key (so they run once); by default every call is a new
    task, as in Dask. `name`/`dask_key_name` set the key of a value.
    `nout=n` makes a call unpack into `n` delayed values (`a, b = f(x)`).
    """
    if obj is None:
        return lambda f: delayed(f, name=name, pure=pure, nout=nout, traverse=traverse, dask_key_name=dask_key_name)
    if isinstance(obj, Delayed):
        return obj
    if callable(obj):
        return DelayedFunction(obj, pure, nout)
    key = dask_key_name or name or f"{type(obj).__name__}-{tokenize(obj)}"
    value = Delayed(key, None, (obj,), {})
    # A value holding delayed values (a list of them) is a task that gathers them.
    return Delayed(key, _identity, (obj,), {}) if value._deps else value


def _identity(x: Any) -> Any:
    return x


def _task_callable(d: Delayed) -> tuple[Callable[..., Any], list[Delayed]]:
    """The callable the engine runs for `d`, and the tasks whose results it takes, in order."""
    func, args, kwargs, deps = d._func, d._args, d._kwargs, list(d._deps)
    if func is None:
        return functools.partial(_identity, args[0]), []
    if d._direct:
        return func, deps  # the common case: each argument is a distinct task
    if not deps:
        return functools.partial(func, *args, **kwargs), []
    keys = [x._key for x in deps]
    if not kwargs and not any(isinstance(a, (list, tuple, set, frozenset, dict)) for a in args):
        slots = [i for i, a in enumerate(args) if isinstance(a, Delayed)]
        where = [keys.index(args[i]._key) for i in slots]
        base = list(args)

        def call_flat(*vals: Any) -> Any:
            a = base.copy()
            for i, j in zip(slots, where, strict=True):
                a[i] = vals[j]
            return func(*a)

        return call_flat, deps

    def call(*vals: Any) -> Any:
        values = dict(zip(keys, vals, strict=True))
        return func(*_substitute(args, values), **_substitute(kwargs, values))

    return call, deps


def compute_delayed(outputs: list[Delayed], scheduler: Any = None, num_workers: int | None = None) -> list[Any]:
    """Computes delayed values in one graph (shared tasks run once).

    The engine walks the graph (each value's `_key`, `_deps`, `_direct`,
    `_func`) and asks `_task_callable` only for calls whose arguments are
    not simply the results of distinct tasks.
    """
    client = config.client(scheduler)
    if client is not None:
        return client._compute_delayed(list(outputs))  # type: ignore[no-any-return]
    return _core.compute_delayed(list(outputs), _task_callable, config.scheduler(scheduler, num_workers))


def write_dot(outputs: list[Delayed], filename: str) -> None:
    """Writes the graph behind delayed values as Graphviz dot: a node per
    task (labelled by its function), an edge from each input."""
    seen: set[str] = set()
    lines = ["digraph blockwork {", "  rankdir=BT;", "  node [shape=box, fontname=Helvetica];"]
    stack = list(outputs)
    while stack:
        d = stack.pop()
        if d._key in seen:
            continue
        seen.add(d._key)
        label = _funcname(d._func) if d._func is not None else "value"
        lines.append(f"  {_dot_id(d._key)} [label={_dot_id(label)}];")
        for x in d._deps:
            lines.append(f"  {_dot_id(x._key)} -> {_dot_id(d._key)};")
            stack.append(x)
    lines.append("}")
    with open(filename, "w") as f:
        f.write("\n".join(lines) + "\n")


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
