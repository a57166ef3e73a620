"""Thin entry point: same as `hailong score …`."""

from _entry import run

if __name__ == "__main__":
    run("score")
