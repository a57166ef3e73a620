"""Thin entry point: same as `hailong score …`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hailong.cli import main  # noqa: E402

if __name__ == "__main__":
    main(["score", *sys.argv[1:]])
