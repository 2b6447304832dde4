"""`blockwork.bag`: partitioned collections of Python objects, as `dask.bag`.

    import json
    import blockwork.bag as db

    logs = db.read_text("logs/*.jsonl.gz").map(json.loads)
    logs.pluck("level").frequencies(sort=True).compute()   # [("info", 9120), ...]
    db.from_sequence(range(10), npartitions=3).map(lambda x: x * x).sum().compute()

A bag is a list of partitions, each a task that makes a Python list.
Every operation adds one task per partition (reductions a tree of at
most `split_every` partials per task), and nothing runs until `compute`.
Text is listed and read by the engine (globs, ``s3://``, ``.gz``/``.zst``
by extension, blocks of lines of ``blocksize`` bytes); functions run in
Python, on the engine's threads (each task holds the GIL only while its
Python code runs) or, with a client as the scheduler, on the cluster's
Python workers, pickled with cloudpickle.

Reductions (`count`, `sum`, `mean`, `fold`, …) give an `Item`; those that
make items (`frequencies`, `distinct`, `topk`, `foldby`) a bag of one
partition; `groupby` shuffles by a hash of the key that is the same in
every process (for str, bytes, numbers and tuples of them).
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import heapq
import itertools
import math
import operator
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from blockwork import _core, config
from blockwork._storage import apply_storage_options, paths
from blockwork._storage import blocksize as _blocksize
from blockwork.delayed import Delayed, compute_delayed

__all__ = ["Bag", "Item", "as_delayed", "concat", "from_delayed", "from_sequence", "range", "read_text", "zip"]


class _NoDefault:
    def __repr__(self) -> str:
        return "no_default"


no_default: Any = _NoDefault()

SPLIT_EVERY = 8


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def _task(key: str, func: Callable[..., Any], *args: Any) -> Delayed:
    return Delayed(key, func, args, {})


class Item:
    """One lazy value: a reduction's result."""

    __slots__ = ("_d",)

    def __init__(self, d: Delayed) -> None:
        self._d = d

    @property
    def key(self) -> str:
        """The task's key."""
        return self._d.key

    def compute(self, scheduler: Any = None, num_workers: int | None = None, **kwargs: Any) -> Any:
        """The value."""
        return compute_delayed([self._d], scheduler, num_workers)[0]

    def apply(self, func: Callable[[Any], Any]) -> Item:
        """`func` of the value, lazily."""
        return Item(_task(_name("apply"), func, self._d))

    def to_delayed(self) -> Delayed:
        """The delayed value behind it."""
        return self._d

    def __repr__(self) -> str:
        return f"blockwork.bag.Item<{self.key}>"


class Bag:
    """A lazy, partitioned collection of Python objects (see the module)."""

    __slots__ = ("_held", "_parts")

    def __init__(self, parts: list[Delayed]) -> None:
        if not parts:
            raise ValueError("a bag needs at least one partition")
        self._parts = list(parts)
        # Futures of its partitions on a cluster, when persisted there.
        self._held: list[Any] = []

    @property
    def npartitions(self) -> int:
        """How many partitions it has."""
        return len(self._parts)

    def __repr__(self) -> str:
        return f"blockwork.bag<npartitions={self.npartitions}>"

    # -- making and computing ---------------------------------------------

    def _each(self, prefix: str, func: Callable[..., Any], *args: Any) -> Bag:
        """A bag of `func(partition, *args)` per partition."""
        name = _name(prefix)
        return Bag([_task(f"{name}-{i}", func, p, *args) for i, p in enumerate(self._parts)])

    def compute(self, scheduler: Any = None, num_workers: int | None = None, **kwargs: Any) -> list[Any]:
        """Every item, partitions in order."""
        parts = compute_delayed(self._parts, scheduler, num_workers)
        return [x for p in parts for x in p]

    def persist(self, scheduler: Any = None, num_workers: int | None = None, **kwargs: Any) -> Bag:
        """A bag of the computed partitions (what is built on it starts from
        them). With a client, the partitions stay on its workers."""
        client = config.client(scheduler)
        if client is not None:
            return client.persist(self)  # type: ignore[no-any-return]
        parts = compute_delayed(self._parts, scheduler, num_workers)
        name = _name("persist")
        return Bag([Delayed(f"{name}-{i}", None, (p,), {}) for i, p in enumerate(parts)])

    def to_delayed(self) -> list[Delayed]:
        """One delayed list per partition."""
        return list(self._parts)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.compute())

    def take(self, k: int, npartitions: int = 1, compute: bool = True, warn: bool = True) -> Any:
        """The first `k` items (a tuple) of the first `npartitions`
        partitions (-1: all of them, as many as it takes)."""
        if npartitions == -1:
            npartitions = self.npartitions
        if not 1 <= npartitions <= self.npartitions:
            raise ValueError(f"take: npartitions must be -1 or 1..{self.npartitions}, not {npartitions}")
        head = Bag(self._parts[:npartitions])
        if not compute:
            return head._each("take", _head, k)
        out = tuple(itertools.islice(head.compute(), k))
        if warn and len(out) < k:
            import warnings

            warnings.warn(
                f"take: {len(out)} items in the first {npartitions} partitions, {k} asked for; try npartitions=-1",
                stacklevel=2,
            )
        return out

    # -- item-wise ----------------------------------------------------------

    def map(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Bag:
        """`func(item, *args, **kwargs)` of every item; a bag among the
        arguments is taken item by item alongside (same partitions), an
        `Item` as its value."""
        return self._mapped("map", func, args, kwargs)

    def starmap(self, func: Callable[..., Any], **kwargs: Any) -> Bag:
        """`func(*item, **kwargs)` of every item (items are tuples)."""
        if not callable(func):
            raise TypeError(f"starmap needs a callable, got {type(func).__name__}")
        return self._mapped("starmap", functools.partial(_star, func), (), kwargs)

    def _mapped(self, prefix: str, func: Callable[..., Any], args: Any, kwargs: Any) -> Bag:
        if not callable(func):
            raise TypeError(f"{prefix} needs a callable, got {type(func).__name__}")
        for a in (*args, *kwargs.values()):
            if isinstance(a, Bag) and a.npartitions != self.npartitions:
                raise ValueError(f"{prefix}: bags of {self.npartitions} and {a.npartitions} partitions")
        name = _name(prefix)
        parts = []
        for i, p in enumerate(self._parts):
            a = tuple(_arg(x, i) for x in args)
            kw = {k: _arg(v, i) for k, v in kwargs.items()}
            zipped = tuple(j for j, x in enumerate(args) if isinstance(x, Bag))
            zipped_kw = tuple(k for k, v in kwargs.items() if isinstance(v, Bag))
            parts.append(_task(f"{name}-{i}", _map_part, func, p, a, kw, zipped, zipped_kw))
        return Bag(parts)

    def filter(self, predicate: Callable[[Any], Any]) -> Bag:
        """The items for which `predicate` is true."""
        return self._each("filter", _filter_part, predicate, True)

    def remove(self, predicate: Callable[[Any], Any]) -> Bag:
        """The items for which `predicate` is false."""
        return self._each("remove", _filter_part, predicate, False)

    def flatten(self) -> Bag:
        """The items of every item, in order."""
        return self._each("flatten", _flatten_part)

    def map_partitions(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Bag:
        """`func(partition, *args, **kwargs)` of each partition (a list) as
        the new partition; bags among the arguments give their partitions."""
        if not callable(func):
            raise TypeError(f"map_partitions needs a callable, got {type(func).__name__}")
        name = _name("map-partitions")
        parts = []
        for i, p in enumerate(self._parts):
            a = tuple(_arg(x, i) for x in args)
            kw = {k: _arg(v, i) for k, v in kwargs.items()}
            parts.append(_task(f"{name}-{i}", _partition_call, func, p, a, kw))
        return Bag(parts)

    def pluck(self, key: Any, default: Any = no_default) -> Bag:
        """Field `key` of every item (a list of keys: a tuple of fields);
        `default` for items without it, else a `KeyError`/`IndexError`."""
        return self._each("pluck", _pluck_part, key, default)

    @property
    def str(self) -> _StringMethods:
        """String methods of the items: `b.str.lower()`, `b.str.split(",")`."""
        return _StringMethods(self)

    # -- reductions ---------------------------------------------------------

    def reduction(
        self,
        perpartition: Callable[[list[Any]], Any],
        aggregate: Callable[[list[Any]], Any],
        split_every: int | None = None,
        out_type: type = Item,
        name: str | None = None,
    ) -> Any:
        """`perpartition` of each partition, then `aggregate` of lists of
        those partials (in a tree of at most `split_every`, also on its own
        results): an `Item`, or with ``out_type=Bag`` a bag of one partition
        holding the result's items."""
        split = split_every or SPLIT_EVERY
        if split < 2:
            raise ValueError(f"split_every must be at least 2, not {split}")
        prefix = name or "reduction"
        level = self._each(f"{prefix}-partial", _applied, perpartition)._parts
        depth = 0
        while len(level) > 1:
            key = _name(f"{prefix}-aggregate-{depth}")
            level = [
                _task(f"{key}-{i}", _call1, aggregate, level[j : j + split])
                for i, j in enumerate(builtins.range(0, len(level), split))
            ]
            depth += 1
        last = level[0] if depth else _task(_name(f"{prefix}-aggregate"), _call1, aggregate, level)
        if out_type is Bag:
            return Bag([_task(_name(prefix), list, last)])
        return Item(last)

    def _tree(
        self,
        prefix: str,
        per: Callable[[list[Any]], Any],
        combine: Callable[[list[Any]], Any],
        finish: Callable[[Any], Any],
        split_every: int | None,
        out_type: type = Item,
    ) -> Any:
        """A reduction whose partials `combine` merges (a list of them into
        one), `finish` making the value of the last."""
        item = self.reduction(per, combine, split_every, Item, prefix)
        d = _task(_name(f"{prefix}-finish"), finish, item._d)
        return Bag([d]) if out_type is Bag else Item(d)

    def count(self, split_every: int | None = None) -> Item:
        """How many items."""
        return self.reduction(len, sum, split_every, name="count")

    def sum(self, split_every: int | None = None) -> Item:
        """The sum of the items."""
        return self.reduction(builtins.sum, builtins.sum, split_every, name="sum")

    def min(self, split_every: int | None = None) -> Item:
        """The smallest item (`ValueError` of an empty bag)."""
        return self._tree("min", _extreme_part(builtins.min), _extreme_combine(builtins.min), _only("min"), split_every)

    def max(self, split_every: int | None = None) -> Item:
        """The largest item (`ValueError` of an empty bag)."""
        return self._tree("max", _extreme_part(builtins.max), _extreme_combine(builtins.max), _only("max"), split_every)

    def all(self, split_every: int | None = None) -> Item:
        """Whether every item is true."""
        return self.reduction(builtins.all, builtins.all, split_every, name="all")

    def any(self, split_every: int | None = None) -> Item:
        """Whether some item is true."""
        return self.reduction(builtins.any, builtins.any, split_every, name="any")

    def mean(self, split_every: int | None = None) -> Item:
        """The mean of the items (NaN of an empty bag)."""
        return self._tree("mean", _moments, _add_moments, _mean_of, split_every)

    def var(self, ddof: int = 0, split_every: int | None = None) -> Item:
        """The variance of the items (`ddof` as NumPy's)."""
        return self._tree("var", _moments, _add_moments, functools.partial(_var_of, ddof=ddof), split_every)

    def std(self, ddof: int = 0, split_every: int | None = None) -> Item:
        """The standard deviation of the items."""
        return self.var(ddof, split_every).apply(math.sqrt)

    def fold(
        self,
        binop: Callable[[Any, Any], Any],
        combine: Callable[[Any, Any], Any] | None = None,
        initial: Any = no_default,
        split_every: int | None = None,
        out_type: type = Item,
    ) -> Any:
        """Items folded with `binop` per partition (from `initial`, if
        given), the partitions' results with `combine` (default `binop`)."""
        per = functools.partial(_fold_part, binop, initial)
        merge = functools.partial(_fold_combine, combine or binop)
        return self._tree("fold", per, merge, functools.partial(_fold_finish, initial), split_every, out_type)

    def frequencies(self, split_every: int | None = None, sort: bool = False) -> Bag:
        """`(item, count)` of each distinct item, in one partition (first
        seen first; with `sort`, most frequent first)."""
        finish = functools.partial(_count_pairs, sort=sort)
        return self._tree("frequencies", _counts, _merge_counts, finish, split_every, Bag)

    def distinct(self, key: Callable[[Any], Any] | None = None) -> Bag:
        """The distinct items (by `key`, the first of each), first seen first,
        in one partition."""
        per, merge = functools.partial(_firsts, key), functools.partial(_merge_firsts, key)
        return self._tree("distinct", per, merge, _values, None, Bag)

    def topk(self, k: int, key: Any = None, split_every: int | None = None) -> Bag:
        """The `k` largest items (by `key`: a callable, or a field to take),
        largest first, in one partition."""
        keyfn = key if key is None or callable(key) else operator.itemgetter(key)
        per, merge = functools.partial(_top, k, keyfn), functools.partial(_top_merge, k, keyfn)
        return self._tree("topk", per, merge, list, split_every, Bag)

    def foldby(
        self,
        key: Any,
        binop: Callable[[Any, Any], Any],
        initial: Any = no_default,
        combine: Callable[[Any, Any], Any] | None = None,
        combine_initial: Any = no_default,
        split_every: int | None = None,
    ) -> Bag:
        """Items folded per key (as Dask's `foldby`): within each partition
        with `binop` (from `initial`), then the partitions' results of a key
        with `combine` (from `combine_initial`); `(key, value)` pairs, first
        seen first, in one partition. `key` is a callable or a field."""
        keyfn = key if callable(key) else operator.itemgetter(key)
        per = functools.partial(_foldby_part, keyfn, binop, initial)
        merge = functools.partial(_foldby_merge, combine or binop, combine_initial)
        return self._tree("foldby", per, merge, _items_of, split_every, Bag)

    def groupby(self, grouper: Any, npartitions: int | None = None) -> Bag:
        """`(key, [items])` per distinct key of `grouper` (a callable or a
        field), over `npartitions` partitions (default: as many as this
        bag), by a shuffle: each partition is split by a hash of the key
        (the same in every process), each output gathers its share."""
        keyfn = grouper if callable(grouper) else operator.itemgetter(grouper)
        n = npartitions or self.npartitions
        if n < 1:
            raise ValueError(f"groupby into {n} partitions: give at least 1")
        splits = self._each("groupby-split", _split_part, keyfn, n)._parts
        name = _name("groupby")
        return Bag([_task(f"{name}-{j}", _gather_part, keyfn, j, splits) for j in builtins.range(n)])

    # -- out ------------------------------------------------------------------

    def to_textfiles(
        self,
        path: str,
        name_function: Callable[[int], str] | None = None,
        compression: str = "infer",
        encoding: str = "utf-8",
        compute: bool = True,
        storage_options: dict[str, Any] | None = None,
        last_endline: bool = False,
    ) -> Any:
        """Writes each partition as a text file, an item per line (items
        that end in a newline get no second one): `path` holds one ``*``
        for the partition's name (``name_function(i)``, default ``i``), or
        is a directory (``path/i.part``). Compressed as the extension says
        (``.gz``, ``.zst``). Returns the files written (with ``compute=False``
        the delayed writes)."""
        if compression != "infer" or encoding.lower().replace("-", "") != "utf8":
            raise ValueError("to_textfiles writes UTF-8, compressed as the file extension says (compression='infer')")
        apply_storage_options(storage_options)
        name = name_function or str
        if "*" in path:
            files = [path.replace("*", name(i)) for i in builtins.range(self.npartitions)]
        else:
            files = [f"{path.rstrip('/')}/{name(i)}.part" for i in builtins.range(self.npartitions)]
        key = _name("to-textfiles")
        writes = [
            _task(f"{key}-{i}", _write_part, p, f, last_endline)
            for i, (p, f) in enumerate(builtins.zip(self._parts, files, strict=True))
        ]
        if not compute:
            return writes
        compute_delayed(writes)
        return files

    def to_dataframe(self, meta: Any = None, columns: list[str] | None = None) -> Any:
        """A blockwork DataFrame of the items (dicts, or tuples with
        `columns`), a partition per bag partition. It computes the bag's
        partitions now (each made a pandas frame by its own task)."""
        import blockwork.dataframe as dd

        if meta is not None and columns is None:
            columns = list(getattr(meta, "columns", meta))
        frames = compute_delayed(self._each("to-dataframe", _frame_part, columns)._parts)
        return dd.concat([dd.from_pandas(f, npartitions=1) for f in frames])


class _StringMethods:
    """`b.str.NAME(*args)`: the str method NAME of every item."""

    __slots__ = ("_bag",)

    def __init__(self, bag: Bag) -> None:
        self._bag = bag

    def __getattr__(self, name: str) -> Callable[..., Bag]:
        if not hasattr(str, name):
            raise AttributeError(f"str has no method {name!r}")

        def method(*args: Any, **kwargs: Any) -> Bag:
            return self._bag.map(operator.methodcaller(name, *args, **kwargs))

        return method

    def match(self, pattern: str) -> Bag:
        """The items matching a shell-style wildcard `pattern`."""
        import fnmatch

        return self._bag.filter(functools.partial(fnmatch.fnmatchcase, pat=pattern))


def as_delayed(x: Bag | Item) -> Delayed:
    """A bag as one delayed list of its items; an item as its delayed value."""
    if isinstance(x, Item):
        return x._d
    return _task(_name("bag-items"), _chain, list(x._parts))


# -- making bags -------------------------------------------------------------


def from_sequence(seq: Iterable[Any], partition_size: int | None = None, npartitions: int | None = None) -> Bag:
    """A bag of the items of `seq`, in partitions of `partition_size`
    items, or `npartitions` of nearly equal size (by default, about 100
    partitions for long sequences, as Dask)."""
    items = list(seq)
    n = len(items)
    if partition_size is None and npartitions is None:
        partition_size = 1 if n <= 100 else max(1, math.ceil(math.sqrt(n) / math.sqrt(100)))
    if npartitions is not None:
        if npartitions < 1:
            raise ValueError(f"npartitions must be at least 1, not {npartitions}")
        partition_size = max(1, math.ceil(n / npartitions))
    assert partition_size is not None
    if partition_size < 1:
        raise ValueError(f"partition_size must be at least 1, not {partition_size}")
    chunks = [items[i : i + partition_size] for i in builtins.range(0, n, partition_size)] or [[]]
    name = _name("from-sequence")
    return Bag([Delayed(f"{name}-{i}", None, (c,), {}) for i, c in enumerate(chunks)])


def range(n: int, npartitions: int) -> Bag:
    """The integers 0..n in `npartitions` partitions."""
    return from_sequence(builtins.range(n), npartitions=npartitions)


def read_text(
    urlpath: Any,
    blocksize: Any = None,
    compression: str = "infer",
    encoding: str = "utf-8",
    files_per_partition: int | None = None,
    include_path: bool = False,
    storage_options: dict[str, Any] | None = None,
) -> Bag:
    """The lines of text files, each with its line terminator, as Dask's:
    `urlpath` is a path, a glob (``*``, ``**``, ``[ab]``, ``{a,b}``), an
    ``s3://`` URL of either, or a list of them; a partition per file, or
    per `blocksize` bytes (``"64MiB"``) of an uncompressed one.
    ``.gz``/``.zst`` files are decompressed (whole). With `include_path`
    the items are ``(line, path)`` pairs. A pattern matching no file is a
    `FileNotFoundError`."""
    if compression != "infer" or encoding.lower().replace("-", "") != "utf8":
        raise ValueError("read_text reads UTF-8, decompressed as the file extension says (compression='infer')")
    apply_storage_options(storage_options)
    size = _blocksize(blocksize)
    pieces = [piece for p in paths(urlpath) for piece in _core.text_pieces(p, size)]
    name = _name("read-text")
    parts = [_task(f"{name}-{i}", _read_piece, f, r, include_path) for i, (f, r) in enumerate(pieces)]
    if files_per_partition and files_per_partition > 1:
        return concat_partitions(Bag(parts), files_per_partition)
    return Bag(parts)


def concat_partitions(bag: Bag, k: int) -> Bag:
    """Every `k` consecutive partitions as one."""
    name = _name("concat-partitions")
    groups = [bag._parts[i : i + k] for i in builtins.range(0, bag.npartitions, k)]
    return Bag([_task(f"{name}-{i}", _chain, g) for i, g in enumerate(groups)])


def from_delayed(values: Any) -> Bag:
    """A bag whose partitions are delayed lists (or one delayed list)."""
    vals = [values] if isinstance(values, Delayed) else list(values)
    if not all(isinstance(v, Delayed) for v in vals):
        raise TypeError("from_delayed takes delayed values (each a list of items)")
    name = _name("from-delayed")
    return Bag([_task(f"{name}-{i}", list, v) for i, v in enumerate(vals)])


def concat(bags: list[Bag]) -> Bag:
    """The partitions of every bag, in order."""
    if not bags:
        raise ValueError("concat of no bags")
    return Bag([p for b in bags for p in b._parts])


def zip(*bags: Bag) -> Bag:
    """Tuples of the bags' items side by side (bags of equal partitions)."""
    if len({b.npartitions for b in bags}) != 1:
        raise ValueError("zip: bags of different numbers of partitions")
    name = _name("zip")
    return Bag(
        [
            _task(f"{name}-{i}", _zip_parts, *ps)
            for i, ps in enumerate(builtins.zip(*(b._parts for b in bags), strict=True))
        ]
    )


# -- task functions (module level: workers import them by name) -------------


def _arg(x: Any, i: int) -> Any:
    if isinstance(x, Bag):
        return x._parts[i]
    if isinstance(x, Item):
        return x._d
    return x


def _map_part(
    func: Callable[..., Any],
    part: list[Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    zipped: tuple[int, ...],
    zipped_kw: tuple[str, ...],
) -> list[Any]:
    if not zipped and not zipped_kw:
        return [func(x, *args, **kwargs) for x in part]
    out = []
    for j, x in enumerate(part):
        a = [v[j] if i in zipped else v for i, v in enumerate(args)]
        kw = {k: (v[j] if k in zipped_kw else v) for k, v in kwargs.items()}
        out.append(func(x, *a, **kw))
    return out


def _star(func: Callable[..., Any], x: Any, **kwargs: Any) -> Any:
    return func(*x, **kwargs)


def _filter_part(part: list[Any], predicate: Callable[[Any], Any], keep: bool) -> list[Any]:
    return [x for x in part if bool(predicate(x)) == keep]


def _flatten_part(part: list[Any]) -> list[Any]:
    return [y for x in part for y in x]


def _partition_call(
    func: Callable[..., Any], part: list[Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> list[Any]:
    return list(func(part, *args, **kwargs))


def _pluck_part(part: list[Any], key: Any, default: Any) -> list[Any]:
    def one(x: Any, k: Any) -> Any:
        if default is no_default:
            return x[k]
        try:
            return x[k]
        except (KeyError, IndexError):
            return default

    if isinstance(key, list):
        return [tuple(one(x, k) for k in key) for x in part]
    return [one(x, key) for x in part]


def _call1(func: Callable[[Any], Any], x: Any) -> Any:
    return func(x)


def _applied(x: Any, func: Callable[[Any], Any]) -> Any:
    return func(x)


def _head(part: list[Any], k: int) -> list[Any]:
    return part[:k]


def _chain(parts: list[list[Any]]) -> list[Any]:
    return [x for p in parts for x in p]


def _zip_parts(*parts: list[Any]) -> list[Any]:
    return list(builtins.zip(*parts, strict=True))


def _read_piece(file: str, piece: tuple[int, int, int] | None, include_path: bool) -> list[Any]:
    lines = _core.read_text_piece(file, piece)
    return [(line, file) for line in lines] if include_path else lines


def _write_part(part: list[Any], path: str, last_endline: bool) -> str:
    lines = [x if isinstance(x, str) and x.endswith("\n") else f"{x}\n" for x in part]
    # The last item keeps a newline of its own; an added one only if asked.
    if lines and not last_endline and lines[-1] is not part[-1]:
        lines[-1] = lines[-1][:-1]
    _core.write_text_file(path, "".join(lines))
    return path


def _extreme_part(pick: Callable[..., Any]) -> Callable[[list[Any]], list[Any]]:
    return functools.partial(_extreme, pick)


def _extreme(pick: Callable[..., Any], part: list[Any]) -> list[Any]:
    return [pick(part)] if part else []


def _extreme_combine(pick: Callable[..., Any]) -> Callable[[list[Any]], list[Any]]:
    return functools.partial(_extreme_of_partials, pick)


def _extreme_of_partials(pick: Callable[..., Any], partials: list[list[Any]]) -> list[Any]:
    xs = [x for p in partials for x in p]
    return [pick(xs)] if xs else []


def _only(what: str) -> Callable[[list[Any]], Any]:
    return functools.partial(_only_of, what)


def _only_of(what: str, partial: list[Any]) -> Any:
    if not partial:
        raise ValueError(f"{what} of an empty bag")
    return partial[0]


def _moments(part: list[Any]) -> tuple[int, float, float]:
    return len(part), float(builtins.sum(part)), float(builtins.sum(x * x for x in part))


def _add_moments(ms: list[tuple[int, float, float]]) -> tuple[int, float, float]:
    return builtins.sum(m[0] for m in ms), builtins.sum(m[1] for m in ms), builtins.sum(m[2] for m in ms)


def _mean_of(m: tuple[int, float, float]) -> float:
    n, s, _ = m
    return s / n if n else math.nan


def _var_of(m: tuple[int, float, float], ddof: int) -> float:
    n, s, q = m
    if n - ddof <= 0:
        return math.nan
    return (q - s * s / n) / (n - ddof)


def _fold_part(binop: Callable[[Any, Any], Any], initial: Any, part: list[Any]) -> list[Any]:
    if initial is no_default:
        return [functools.reduce(binop, part)] if part else []
    return [functools.reduce(binop, part, initial)]


def _fold_combine(combine: Callable[[Any, Any], Any], partials: list[list[Any]]) -> list[Any]:
    xs = [x for p in partials for x in p]
    return [functools.reduce(combine, xs)] if xs else []


def _fold_finish(initial: Any, partial: list[Any]) -> Any:
    if partial:
        return partial[0]
    if initial is no_default:
        raise ValueError("fold of an empty bag without an initial value")
    return initial


def _counts(part: list[Any]) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for x in part:
        out[x] = out.get(x, 0) + 1
    return out


def _merge_counts(partials: list[dict[Any, int]]) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for p in partials:
        for x, n in p.items():
            out[x] = out.get(x, 0) + n
    return out


def _count_pairs(counts: dict[Any, int], sort: bool) -> list[tuple[Any, int]]:
    pairs = list(counts.items())
    if sort:
        pairs.sort(key=lambda p: -p[1])
    return pairs


def _firsts(key: Callable[[Any], Any] | None, part: list[Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for x in part:
        out.setdefault(key(x) if key else x, x)
    return out


def _merge_firsts(key: Callable[[Any], Any] | None, partials: list[dict[Any, Any]]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for p in partials:
        for k, x in p.items():
            out.setdefault(k, x)
    return out


def _values(d: dict[Any, Any]) -> list[Any]:
    return list(d.values())


def _top(k: int, key: Callable[[Any], Any] | None, part: list[Any]) -> list[Any]:
    return heapq.nlargest(k, part, key=key)


def _top_merge(k: int, key: Callable[[Any], Any] | None, partials: list[list[Any]]) -> list[Any]:
    return heapq.nlargest(k, (x for p in partials for x in p), key=key)


def _fold_into(
    out: dict[Any, Any], pairs: Iterable[tuple[Any, Any]], op: Callable[[Any, Any], Any], initial: Any
) -> dict[Any, Any]:
    """Folds each `(key, value)` into `out[key]` with `op`, a new key
    starting from `initial` (or from its first value)."""
    for k, v in pairs:
        if k in out:
            out[k] = op(out[k], v)
        elif initial is no_default:
            out[k] = v
        else:
            out[k] = op(initial, v)
    return out


def _foldby_part(
    key: Callable[[Any], Any], binop: Callable[[Any, Any], Any], initial: Any, part: list[Any]
) -> dict[Any, Any]:
    return _fold_into({}, ((key(x), x) for x in part), binop, initial)


def _foldby_merge(combine: Callable[[Any, Any], Any], initial: Any, partials: list[dict[Any, Any]]) -> dict[Any, Any]:
    return _fold_into({}, (kv for p in partials for kv in p.items()), combine, initial)


def _items_of(d: dict[Any, Any]) -> list[tuple[Any, Any]]:
    return list(d.items())


def _stable_hash(k: Any) -> int:
    """A hash of `k` that every process agrees on (Python's `hash` of a
    str differs between processes): equal numbers hash alike."""
    if isinstance(k, bool):
        return int(k)
    if isinstance(k, int):
        return k
    if isinstance(k, float):
        return int(k) if k.is_integer() else _digest(repr(k).encode())
    if isinstance(k, str):
        return _digest(k.encode("utf-8", "surrogatepass"))
    if isinstance(k, bytes):
        return _digest(b"b" + k)
    if isinstance(k, tuple):
        h = 0x345678
        for x in k:
            h = (h * 1000003) ^ _stable_hash(x)
        return h
    if k is None:
        return 0x5F3759DF
    return hash(k)


def _digest(b: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(b, digest_size=8).digest(), "little")


def _split_part(part: list[Any], key: Callable[[Any], Any], n: int) -> list[list[Any]]:
    pieces: list[list[Any]] = [[] for _ in builtins.range(n)]
    for x in part:
        pieces[_stable_hash(key(x)) % n].append(x)
    return pieces


def _gather_part(key: Callable[[Any], Any], j: int, splits: list[list[list[Any]]]) -> list[tuple[Any, list[Any]]]:
    groups: dict[Any, list[Any]] = {}
    for pieces in splits:
        for x in pieces[j]:
            groups.setdefault(key(x), []).append(x)
    return list(groups.items())


def _frame_part(part: list[Any], columns: list[str] | None) -> Any:
    import pandas as pd

    if columns is None:
        return pd.DataFrame.from_records(part)
    return pd.DataFrame.from_records(part, columns=columns)
