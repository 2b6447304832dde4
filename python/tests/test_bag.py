"""blockwork.bag against plain Python on random items and partitionings;
text piles read back as Python reads them; a cluster's Python workers
computing what threads compute."""

from __future__ import annotations

import collections
import gzip
import heapq
import json
import math
import operator
import os
import random
import statistics
import sys
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

import blockwork
import blockwork.bag as db
from blockwork import config

cloudpickle.register_pickle_by_value(sys.modules[__name__])


def numbers(seed: int) -> tuple[list[int], db.Bag]:
    rng = random.Random(seed)
    items = [rng.randint(-20, 20) for _ in range(rng.randint(0, 300))]
    return items, db.from_sequence(items, npartitions=rng.randint(1, 12))


@pytest.mark.parametrize("seed", range(8))
def test_itemwise_steps_match_python(seed: int) -> None:
    items, b = numbers(seed)
    assert b.compute() == items
    assert list(b) == items
    assert b.map(lambda x: x * 3).compute() == [x * 3 for x in items]
    assert b.filter(lambda x: x % 2).compute() == [x for x in items if x % 2]
    assert b.remove(lambda x: x % 2).compute() == [x for x in items if not x % 2]
    assert b.map(lambda x: [x] * (abs(x) % 3)).flatten().compute() == [x for x in items for _ in range(abs(x) % 3)]
    sums = b.map_partitions(lambda p: [sum(p)]).compute()
    assert len(sums) == b.npartitions and sum(sums) == sum(items)
    assert b.map(operator.add, b).compute() == [2 * x for x in items]
    assert b.map(operator.sub, b.sum()).compute() == [x - sum(items) for x in items]
    assert b.map(lambda x, k: x * k, k=b).compute() == [x * x for x in items]
    pairs = db.zip(b, b.map(operator.neg))
    assert pairs.compute() == [(x, -x) for x in items]
    assert pairs.pluck(1).compute() == [-x for x in items]
    assert pairs.pluck([1, 0]).compute() == [(-x, x) for x in items]
    assert pairs.starmap(operator.mul).compute() == [-x * x for x in items]
    assert db.concat([b, b]).compute() == items + items
    assert b.take(3, npartitions=-1) == tuple(items[:3])


@pytest.mark.parametrize("seed", range(8))
def test_reductions_match_python(seed: int) -> None:
    items, b = numbers(seed)
    assert b.count().compute() == len(items)
    assert b.sum(split_every=2).compute() == sum(items)
    assert b.all().compute() == all(items) and b.any().compute() == any(items)
    if items:
        assert b.min().compute() == min(items) and b.max(split_every=3).compute() == max(items)
        assert b.mean().compute() == pytest.approx(statistics.fmean(items))
        assert b.var().compute() == pytest.approx(statistics.pvariance(items), abs=1e-9)
        assert b.std(ddof=1).compute() == pytest.approx(
            statistics.stdev(items) if len(items) > 1 else math.nan, nan_ok=True
        )
        assert b.fold(max).compute() == max(items)
    else:
        with pytest.raises(ValueError, match="empty bag"):
            b.min().compute()
        assert math.isnan(b.mean().compute())
    assert b.fold(operator.add, initial=0).compute() == sum(items)
    freqs = b.frequencies(split_every=2).compute()
    assert dict(freqs) == collections.Counter(items)
    assert [x for x, _ in freqs] == list(dict.fromkeys(items)), "first seen first"
    ranked = b.frequencies(sort=True).compute()
    assert [n for _, n in ranked] == sorted(collections.Counter(items).values(), reverse=True)
    assert b.distinct().compute() == list(dict.fromkeys(items))
    firsts: dict[int, int] = {}
    for x in items:
        firsts.setdefault(abs(x), x)
    assert b.distinct(key=abs).compute() == list(firsts.values())
    assert b.topk(5).compute() == heapq.nlargest(5, items)
    assert b.topk(3, key=abs).compute() == heapq.nlargest(3, items, key=abs)
    assert b.foldby(lambda x: x % 3, operator.add, 100, operator.add).compute() == [
        (k, v) for k, v in _foldby_partitions(b, items).items()
    ]
    groups: dict[int, list[int]] = {}
    for x in items:
        groups.setdefault(x % 5, []).append(x)
    got = b.groupby(lambda x: x % 5, npartitions=3).compute()
    assert dict(got) == groups and len(got) == len(groups)
    assert b.reduction(len, sum, split_every=2).compute() == len(items)


def _foldby_partitions(b: db.Bag, items: list[int]) -> dict[int, int]:
    """Dask's foldby: `initial` starts each key in each partition, partitions
    then combined without an initial value."""
    out: dict[int, int] = {}
    for part in b.map_partitions(lambda p: [p]).compute():
        local: dict[int, int] = {}
        for x in part:
            local[x % 3] = local.get(x % 3, 100) + x
        for k, v in local.items():
            out[k] = out[k] + v if k in out else v
    return out


def test_strings_and_records() -> None:
    words = ["Sea", "ice", "SEA", "melt", "Ice"]
    b = db.from_sequence(words, npartitions=2)
    assert b.str.lower().frequencies().compute() == [("sea", 2), ("ice", 2), ("melt", 1)]
    assert b.str.match("*e*").compute() == ["Sea", "ice", "melt", "Ice"]
    records = [{"name": w, "n": i} for i, w in enumerate(words)]
    r = db.from_sequence(records, npartitions=3)
    assert r.pluck("name").compute() == words
    assert r.pluck("missing", default=0).compute() == [0] * 5
    with pytest.raises(KeyError):
        r.pluck("missing").compute()
    assert r.groupby("name").count().compute() == 5
    frame = r.to_dataframe()
    assert list(frame.compute()["n"]) == list(range(5))
    import blockwork

    (whole, total) = blockwork.compute(frame, frame.n.sum())
    assert list(whole["name"]) == words and total == 10
    with pytest.raises(ValueError, match="npartitions"):
        db.from_sequence(words, npartitions=0)
    with pytest.raises(TypeError, match="callable"):
        b.map(3)  # type: ignore[arg-type]


def test_persist_takes_bags_and_delayed_values() -> None:
    items, bag = numbers(5)
    kept, value, other = blockwork.persist(bag.map(abs), blockwork.delayed(sum)(items), "as it is")
    assert isinstance(kept, db.Bag) and kept.compute() == [abs(x) for x in items]
    assert value.compute() == sum(items) and other == "as it is"


def test_bags_and_items_compute_together() -> None:
    import blockwork

    b = db.from_sequence(range(10), npartitions=3)
    squares = b.map(lambda x: x * x)
    got = blockwork.compute(squares, squares.sum(), b.count(), 7)
    assert got == ([x * x for x in range(10)], 285, 10, 7)


def test_read_text_and_to_textfiles(tmp_path: Path) -> None:
    rng = random.Random(7)
    lines_of: dict[str, list[str]] = {}
    for f in range(4):
        lines = [
            " ".join(rng.choice(["a", "b", "ü", "long"]) for _ in range(rng.randint(0, 9))) + "\n" for _ in range(30)
        ]
        name = f"part-{f}.txt" + (".gz" if f == 3 else "")
        data = "".join(lines).encode()
        (tmp_path / name).write_bytes(gzip.compress(data) if f == 3 else data)
        lines_of[name] = lines
    want = [line for name in sorted(lines_of) for line in lines_of[name]]
    pattern = str(tmp_path / "part-*")
    assert db.read_text(pattern).compute() == want
    small = db.read_text(pattern, blocksize=17)
    assert small.npartitions > 4 and small.compute() == want
    assert db.read_text([str(tmp_path / "part-0.txt"), str(tmp_path / "part-3.txt.gz")]).count().compute() == 60
    with_path = db.read_text(str(tmp_path / "part-1.txt"), include_path=True).compute()
    assert with_path[0] == (lines_of["part-1.txt"][0], str(tmp_path / "part-1.txt"))
    assert db.read_text(pattern, files_per_partition=2).npartitions == 2
    with pytest.raises(FileNotFoundError, match="no file matches"):
        db.read_text(str(tmp_path / "nothing-*.txt"))
    with pytest.raises(ValueError, match="blocksize"):
        db.read_text(pattern, blocksize="lots")

    # Written out and read back: the same lines (compressed by extension).
    out = db.read_text(pattern).map(str.upper).to_textfiles(str(tmp_path / "out" / "up-*.txt.gz"))
    assert len(out) == 4 and all(Path(p).exists() for p in out)
    assert db.read_text(str(tmp_path / "out" / "up-*.txt.gz")).compute() == [x.upper() for x in want]
    db.from_sequence([1, 2, 3], npartitions=2).to_textfiles(str(tmp_path / "nums"))
    assert (tmp_path / "nums" / "0.part").read_text() == "1\n2"
    assert db.read_text(str(tmp_path / "nums" / "*.part")).compute() == ["1\n", "2", "3"]

    records = [{"level": rng.choice(["info", "warn"]), "ms": rng.randint(0, 99)} for _ in range(50)]
    (tmp_path / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    logs = db.read_text(str(tmp_path / "log.jsonl"), blocksize=100).map(json.loads)
    assert logs.pluck("ms").sum().compute() == sum(r["ms"] for r in records)
    assert dict(logs.pluck("level").frequencies().compute()) == collections.Counter(r["level"] for r in records)


def test_bags_compute_on_a_cluster(tmp_path: Path) -> None:
    from blockwork.distributed import Client, LocalCluster

    rng = random.Random(3)
    for f in range(3):
        text = "".join(
            " ".join(rng.choice(["Sea", "ice", "the", "Ärctic"]) for _ in range(8)) + "\n" for _ in range(40)
        )
        (tmp_path / f"t{f}.txt").write_text(text)
    text = db.read_text(str(tmp_path / "*.txt"), blocksize=200)
    words = text.map(str.split).flatten().map(str.lower)

    def summary() -> tuple[Any, ...]:
        return (
            words.frequencies(sort=True).compute(),
            sorted((k, len(v)) for k, v in words.groupby(lambda w: w, npartitions=3).compute()),
            words.count().compute(),
            text.map(len).mean().compute(),
        )

    with config.set(scheduler="threads"):
        here = summary()
    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        there = summary()
        lengths, total = client.compute([text.map(len), text.map(len).sum()], sync=True)
        assert sum(lengths) == total and len(lengths) == here[2] // 8
        future = client.compute(words.distinct())
        assert sorted(future.result()) == sorted({w for w, _ in here[0]})
        pids = set(text.map_partitions(lambda p: [os.getpid()]).compute())
        assert os.getpid() not in pids, "computed here, not on the workers"
        # Persisted on the cluster: later graphs start from the held
        # partitions (each read once, as a log of the reads shows).
        log = tmp_path / "reads.log"

        def logged(p: list[str]) -> list[str]:
            with open(log, "a") as f:
                f.write(f"{os.getpid()}\n")
            return p

        (kept,) = blockwork.persist(text.map_partitions(logged))
        assert kept.count().compute() == here[2] // 8
        assert kept.map(len).sum().compute() == sum(len(line) for line in text.compute())
        assert len(log.read_text().splitlines()) == text.npartitions, "the persisted partitions were computed again"
        assert os.getpid() not in {int(x) for x in log.read_text().split()}
    assert there == here
    # Each word is grouped once however the workers' hash seeds differ.
    assert len(there[1]) == len({w for w, _ in there[0]})
