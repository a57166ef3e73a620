"""Thin entry point: same as `hailong build …`."""

from _entry import run

if __name__ == "__main__":
    run("build")
