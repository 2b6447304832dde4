"""NumPy's ufuncs on blockwork arrays, lazily (`np.sin(x)` is an array)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from blockwork.array.core import Array, _operand, asarray

_MATH = (
    "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "cbrt", "sin", "cos", "tan", "arcsin",
    "arccos", "arctan", "sinh", "cosh", "tanh", "floor", "ceil", "rint", "trunc", "deg2rad", "rad2deg",
)  # fmt: skip


def _array(x: Any) -> Array:
    return x if isinstance(x, Array) else asarray(x)


def _unary(op: str) -> Callable[[Any], Array]:
    def f(x: Any) -> Array:
        return Array(_array(x)._a.unary(op))

    f.__name__ = op
    f.__doc__ = f"`{op}` of every element, lazily (NumPy's `{op}`)."
    return f


def _binary(op: str) -> Callable[[Any, Any], Any]:
    def f(a: Any, b: Any) -> Any:
        if isinstance(a, Array):
            o = _operand(b)
            return Array(a._a.binary(op, o, False))
        if isinstance(b, Array):
            o = _operand(a)
            if isinstance(o, (bool, int, float, complex)):
                return Array(b._a.binary(op, o, True))
            return Array(asarray(a)._a.binary(op, b._a, False))
        return Array(asarray(a)._a.binary(op, _operand(b), False))

    f.__name__ = op
    return f


def _floor_divide(a: Any, b: Any) -> Any:
    return a // b if isinstance(a, Array) else _array(a) // b


def _matmul(a: Any, b: Any) -> Any:
    return _array(a) @ _array(b)


def _positive(x: Any) -> Array:
    return _array(x)


def _not(x: Any) -> Array:
    return ~(_array(x).astype(bool))


UFUNCS: dict[str, Callable[..., Any]] = {name: _unary(name) for name in _MATH}
UFUNCS.update(
    {
        "add": _binary("add"),
        "subtract": _binary("sub"),
        "multiply": _binary("mul"),
        "divide": _binary("truediv"),
        "true_divide": _binary("truediv"),
        "remainder": _binary("mod"),
        "mod": _binary("mod"),
        "power": _binary("pow"),
        "maximum": _binary("maximum"),
        "minimum": _binary("minimum"),
        "equal": _binary("eq"),
        "not_equal": _binary("ne"),
        "less": _binary("lt"),
        "less_equal": _binary("le"),
        "greater": _binary("gt"),
        "greater_equal": _binary("ge"),
        "logical_and": lambda a, b: _binary("and")(_array(a).astype(bool), _array(b).astype(bool)),
        "logical_or": lambda a, b: _binary("or")(_array(a).astype(bool), _array(b).astype(bool)),
        "logical_xor": lambda a, b: _binary("xor")(_array(a).astype(bool), _array(b).astype(bool)),
        "bitwise_and": _binary("and"),
        "bitwise_or": _binary("or"),
        "bitwise_xor": _binary("xor"),
        "arctan2": _binary("arctan2"),
        "floor_divide": _floor_divide,
        "matmul": _matmul,
        "negative": _unary("neg"),
        "positive": _positive,
        "absolute": _unary("abs"),
        "invert": _unary("invert"),
        "logical_not": _not,
        "isnan": _unary("isnan"),
        "conjugate": _unary("conj"),
    }
)
UFUNCS["abs"] = UFUNCS["absolute"]
UFUNCS["conj"] = UFUNCS["conjugate"]


def ufunc(name: str) -> Callable[..., Any]:
    """The blockwork function for NumPy's ufunc `name`."""
    return UFUNCS[name]


__all__ = ["UFUNCS", "np", "ufunc"]
