"""Thin entry point: same as `hailong publish …`."""

from _entry import run

if __name__ == "__main__":
    run("publish")
