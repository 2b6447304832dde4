#!/usr/bin/env python
"""A text pile for the word-frequency benchmark: FILES files of about SIZE
bytes each, lines of 12 words drawn from a vocabulary of 20,000 made-up
words with Zipf-like frequencies (the most common word about 7% of all),
deterministic for a seed.

    python scripts/reference/gen_text.py --out /tmp/refdata/text --files 16 --size 64MiB
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

WORDS_PER_LINE = 12
VOCABULARY = 20_000


def size(text: str) -> int:
    units = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
    for unit, scale in units.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * scale)
    return int(text)


def vocabulary(rng: np.random.Generator) -> list[bytes]:
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
    words: set[bytes] = set()
    while len(words) < VOCABULARY:
        n = int(rng.integers(2, 11))
        words.add(letters[rng.integers(0, 26, n)].tobytes())
    return sorted(words)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/tmp/refdata/text")
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--size", default="64MiB")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    words = vocabulary(rng)
    weights = 1.0 / np.arange(1, VOCABULARY + 1) ** 1.05
    weights /= weights.sum()
    # Each word with its separator: a space, or a newline ending its line.
    table = np.array([w + b" " for w in words] + [w + b"\n" for w in words], dtype=object)
    mean_len = float(np.dot(weights, [len(w) + 1 for w in words]))
    per_file = int(size(args.size) / mean_len) // WORDS_PER_LINE * WORDS_PER_LINE
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for f in range(args.files):
        picks = rng.choice(VOCABULARY, size=per_file, p=weights)
        picks[WORDS_PER_LINE - 1 :: WORDS_PER_LINE] += VOCABULARY
        (out / f"part-{f:03d}.txt").write_bytes(b"".join(table[picks]))
        print(f"{out}/part-{f:03d}.txt", flush=True)


if __name__ == "__main__":
    main()
