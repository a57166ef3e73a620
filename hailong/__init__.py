"""hailong: satisfaction surveys by QR code, and the rankings they produce."""

import os

__version__ = "0.1.0"

# Arrow's C++ library picks its allocator once, when it loads, from this variable. Its own
# (mimalloc) keeps what a chunk of `score` freed for the next chunk: at ten million rows the
# peak was 3.7-3.9 GiB with it and 3.0-3.3 GiB with the system's malloc (which `score` trims
# after each pass), and the run was no slower (measured, issue 10). A value set by the user
# stands; set here, before anything imports pyarrow, it covers every command.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
