"""`python -m blockwork worker tcp://HOST:PORT [--nthreads N] [--name NAME]
[--memory-limit SIZE] [--local-directory DIR] [--resources NAME=AMOUNT,...]
[--token T]`: a worker that runs native tasks and Python tasks (pickled
callables), until Ctrl-C or SIGTERM, or until its scheduler is gone."""

from __future__ import annotations

import sys

from blockwork import _core


def main(argv: list[str]) -> int:
    if len(argv) < 1 or argv[0] != "worker" or any(a in ("-h", "--help") for a in argv):
        # The flags and their help are the `blockwork worker` command's (one parser reads both).
        print(f"usage: python -m blockwork {_core.WORKER_USAGE}\n\n{_core.WORKER_HELP}")
        return 0 if any(a in ("-h", "--help") for a in argv) else 2
    try:
        _core.worker_main(argv[1:])
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
