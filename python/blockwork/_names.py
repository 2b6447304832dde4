"""Names of callables, for task keys and labels."""

from __future__ import annotations

import functools
from typing import Any


def funcname(f: Any) -> str:
    """A callable's name (a partial's by its function; lambdas as "lambda")."""
    while isinstance(f, functools.partial):
        f = f.func
    name = getattr(f, "__name__", None) or type(f).__name__
    return "lambda" if name == "<lambda>" else str(name)
