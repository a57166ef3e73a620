"""Shared by the thin scripts: run one `hailong` verb from a checkout, with a one-line error
when the packages are not installed (the script was started with the system Python)."""

import sys
from pathlib import Path


def run(verb: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    try:
        from hailong.cli import main
    except ModuleNotFoundError as exc:
        sys.stderr.write(
            f"hailong: error: the Python package '{exc.name}' is missing; run `make demo` once to "
            f"set up .venv, then run `.venv/bin/python {' '.join(sys.argv)}` (or `. .venv/bin/activate` first)\n"
        )
        sys.exit(1)
    main([verb, *sys.argv[1:]])
