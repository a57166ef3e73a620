"""Thin entry point: same as `hailong qr …`."""

from _entry import run

if __name__ == "__main__":
    run("qr")
