"""Where data is: paths or URLs as the readers take them, sizes like
"64MiB", and S3 settings (`storage_options`, as fsspec takes them) for
the engine's object store, which reads them from the environment as the
AWS tools do."""

from __future__ import annotations

import os
from typing import Any


def apply_storage_options(options: dict[str, Any] | None) -> None:
    """S3 settings from `storage_options` into the environment the engine's
    object store reads (key, secret, endpoint_url, region, anon)."""
    if not options:
        return
    names = {
        "key": "AWS_ACCESS_KEY_ID",
        "secret": "AWS_SECRET_ACCESS_KEY",
        "token": "AWS_SESSION_TOKEN",
        "endpoint_url": "AWS_ENDPOINT_URL",
        "region": "AWS_REGION",
    }
    client_kwargs = options.get("client_kwargs", {}) or {}
    merged = {**client_kwargs, **{k: v for k, v in options.items() if k != "client_kwargs"}}
    for k, v in merged.items():
        if k in names:
            os.environ[names[k]] = str(v)
        elif k == "anon":
            os.environ["AWS_SKIP_SIGNATURE"] = "true" if v else "false"
        else:
            raise ValueError(f"storage option {k!r} is not one of {', '.join([*names, 'anon'])}")


def paths(urlpath: Any) -> list[str]:
    """A path or URL, or several, as a list of strings."""
    if isinstance(urlpath, (str, os.PathLike)):
        return [os.fspath(urlpath)]
    out = [os.fspath(p) for p in urlpath]
    if not out:
        raise ValueError("no paths given")
    return out


def blocksize(blocksize: Any) -> int | None:
    """Bytes per partition: a number, a size like "64MiB", or None."""
    if blocksize is None:
        return None
    if isinstance(blocksize, str):
        return parse_bytes(blocksize)
    if int(blocksize) <= 0:
        raise ValueError(f"blocksize {blocksize!r} must be positive (or None: a partition per file)")
    return int(blocksize)


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}


def parse_bytes(text: str) -> int:
    """A size like "64MiB", "128MB" or "1GB" in bytes."""
    t = text.strip().lower().replace(" ", "")
    digits = t.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = t[len(digits) :]
    try:
        value = float(digits)
    except ValueError:
        value = -1.0
    if unit not in _UNITS or value <= 0:
        raise ValueError(f'blocksize {text!r} is not a size like "64MiB", "128MB" or "1GB"')
    return int(value * _UNITS[unit])
