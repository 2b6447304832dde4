"""S3 settings (`storage_options`, as fsspec takes them) for the engine's
object store, which reads them from the environment as the AWS tools do."""

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
