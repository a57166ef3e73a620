"""Thin entry point: same as `hailong pull …`."""

from _entry import run

if __name__ == "__main__":
    run("pull")
