"""Checks the crate table of ARCHITECTURE.md against the tree.

Every workspace crate has a row; every direct dependency of a crate
(normal and build; not dev) is allowed by its row's "must never depend on"
column, read through the vocabulary below ("Polars", "collections",
"every other blockwork crate", ...; words that name no crate, such as
"sockets" or "clocks", are the design's and are not checked here). A
crate whose column says "everything else" may depend only on what its
"may depend on" column names. Prints each violation and exits 1 if there
is any.

    python3 scripts/check-architecture.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = {"blockwork-delayed", "blockwork-array", "blockwork-dataframe", "blockwork-labeled", "blockwork-bag"}
BINARIES = {"blockwork-cli", "blockwork-bench", "blockwork-python"}
BLOCK_TYPES = {"ndarray", "polars", "blockwork-array", "blockwork-dataframe"}


def forbidden_by(phrase: str, me: str, workspace: set[str]) -> set[str] | None:
    """The crates a phrase of the "must never" column forbids (`polars`
    stands for every crate of Polars); `None` for "everything else"."""
    p = re.sub(r"\(.*?\)", "", phrase).strip().strip("`").lower()
    if p in ("", "–", "-") or p in ("sockets", "clocks", "threads"):
        return set()
    if p.startswith("everything else"):
        return None
    if p in ("any block type", "block types"):
        return BLOCK_TYPES - {me}
    if p == "any scheduler or collection":
        return {"blockwork-scheduler", "blockwork-worker", "blockwork-runtime"} | COLLECTIONS
    if p in ("collections", "every collection"):
        return COLLECTIONS - {me}
    if p == "other collections":
        return COLLECTIONS - {me}
    if p == "every other blockwork crate":
        return workspace - {me}
    if p.startswith("every other blockwork crate but "):
        spared = {f"blockwork-{n.strip()}" for n in p.removeprefix("every other blockwork crate but ").split(" and ")}
        return workspace - {me} - spared
    if p == "the binaries":
        return BINARIES
    if p in ("polars", "polars directly"):
        return {"polars"}
    if p == "serde":
        return {"serde", "serde_json"}
    if p in ("ndarray", "tokio"):
        return {p}
    name = p if p.startswith("blockwork") else f"blockwork-{p}"
    if name in workspace:
        return {name}
    raise SystemExit(f'ARCHITECTURE.md: {me}: cannot read {phrase!r} in its "must never depend on" column')


def allowed_names(text: str) -> set[str]:
    """The crate names a "may depend on" cell mentions (backticked or bare)."""
    words = re.findall(r"`([a-z0-9_-]+)`|\b([a-z][a-z0-9_-]+)\b", text)
    names = {a or b for a, b in words}
    return names | {f"blockwork-{n}" for n in names}


def rows(text: str) -> dict[str, tuple[str, str]]:
    """Each crate's "may depend on" and "must never depend on" cells."""
    table: dict[str, tuple[str, str]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`blockwork"):
            table[cells[0].strip("`")] = (cells[3], cells[4])
    return table


def split_phrases(cell: str) -> list[str]:
    """A cell's comma-separated phrases (commas inside parentheses kept)."""
    out, depth, cur = [], 0, ""
    for ch in cell:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return [*out, cur]


def problems_of(architecture: str, packages: dict[str, dict]) -> list[str]:
    """What of the tree's dependencies the table does not allow."""
    workspace = set(packages)
    table = rows(architecture)
    problems = [f"{name}: no row in ARCHITECTURE.md's crate table" for name in sorted(workspace - set(table))]
    problems += [f"{name}: a row in ARCHITECTURE.md but no such crate" for name in sorted(set(table) - workspace)]
    for name, (may, never) in sorted(table.items()):
        if name not in packages:
            continue
        deps = {d["name"] for d in packages[name]["dependencies"] if d.get("kind") in (None, "build")}
        rules = [forbidden_by(p, name, workspace) for p in split_phrases(never)]
        if any(r is None for r in rules):
            allowed = allowed_names(may)
            extra = sorted(d for d in deps if d not in allowed)
            problems += [f"{name} depends on {d}, which its row does not allow (only: {may})" for d in extra]
            continue
        forbidden = set().union(*[r for r in rules if r])
        for d in sorted(deps):
            if d in forbidden or (d.startswith("polars") and "polars" in forbidden):
                problems.append(f"{name} depends on {d}, which ARCHITECTURE.md says it must never depend on")
    return problems


def self_test(architecture: str, packages: dict[str, dict]) -> None:
    """The check finds a forbidden dependency, an unlisted one and a missing row."""
    labeled_row = "| Polars, tokio (object-store I/O stays in store), scheduler"
    doctored = architecture.replace(labeled_row, "| store, Polars, scheduler")
    found = problems_of(doctored, packages)
    assert any("blockwork-labeled depends on blockwork-store" in p for p in found), found
    testkit = {**packages["blockwork-testkit"], "dependencies": [{"name": "tokio", "kind": None}]}
    found = problems_of(architecture, {**packages, "blockwork-testkit": testkit})
    assert any("blockwork-testkit depends on tokio" in p for p in found), found
    missing = "\n".join(line for line in architecture.splitlines() if not line.startswith("| `blockwork-plot`"))
    assert "blockwork-plot: no row in ARCHITECTURE.md's crate table" in problems_of(missing, packages)


def main() -> int:
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    packages = {p["name"]: p for p in meta["packages"]}
    architecture = (ROOT / "ARCHITECTURE.md").read_text()
    self_test(architecture, packages)
    problems = problems_of(architecture, packages)
    for p in problems:
        print(p)
    if not problems:
        print(f"architecture: {len(packages)} crates, every direct dependency allowed by ARCHITECTURE.md")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
