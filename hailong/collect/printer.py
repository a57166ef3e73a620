"""One headless Chromium kept open to print many HTML files to PDF (posters: 43 batches).

`hailong.collect.pdf.html_to_pdf` starts a browser per file; that start costs about as much
CPU as printing 150 posters, so batch printing drives one browser per worker through the
DevTools protocol on a pipe (`--remote-debugging-pipe`: messages are JSON ended by a NUL byte,
read from fd 3, written to fd 4). It needs nothing beyond the chromium package and the standard
library. The PDF is the one `--print-to-pdf` makes (the CSS page size, backgrounds printed, no
header or footer), without the accessibility tags: split_pdf and merge_pdfs drop them anyway.
"""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hailong import procpool
from hailong.collect.pdf import FLAGS, chromium_path, html_to_pdf
from hailong.errors import HailongError
from hailong.fsutil import atomic_write_bytes
from hailong.i18n import _

# Print-only switches of FLAGS would start headless mode's own one-shot command handler.
BROWSER_FLAGS = [flag for flag in FLAGS if flag not in ("--no-pdf-header-footer",)]
PRINT = {"printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False,
         "generateTaggedPDF": False, "generateDocumentOutline": False}
# The pipe must be fds 3 and 4 in the browser: a small Python moves them there and becomes the
# browser (no preexec_fn, which is unsafe once threads run; dash cannot name fds above 9).
_TRAMPOLINE = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
               "os.execv(sys.argv[3], sys.argv[3:])")


class Printer:
    """`with Printer() as p: p.print(html, pdf)`; the browser is stopped on leaving."""

    def __init__(self, timeout: float = 600):
        self.timeout = timeout
        # Windows has no pass_fds and cannot select() on a pipe: there each file gets its own
        # browser (html_to_pdf), slower but the same PDF
        self._one_by_one = procpool.windows_like()
        if self._one_by_one:
            chromium_path()  # the missing-browser message before any work, as below
            return
        self._profile = tempfile.TemporaryDirectory(prefix="hailong-chromium-")
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        to_browser, self._write_fd = os.pipe()
        self._read_fd, from_browser = os.pipe()
        command = [sys.executable, "-I", "-S", "-c", _TRAMPOLINE, str(to_browser), str(from_browser),
                   chromium_path(), *BROWSER_FLAGS, "--remote-debugging-pipe",
                   f"--user-data-dir={self._profile.name}"]
        try:
            # Its own session, so that closing (or a timeout) stops the helper processes too.
            self._proc = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=self._stderr,
                                          pass_fds=(to_browser, from_browser),
                                          start_new_session=True)
        finally:
            os.close(to_browser)
            os.close(from_browser)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict] = []
        self._name = "about:blank"
        try:
            target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self._call("Target.attachToTarget",
                                       {"targetId": target, "flatten": True})["sessionId"]
            self._call("Page.enable", session=True)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def print(self, html: Path | str, pdf_path: Path | str) -> Path:
        """Print one HTML file to pdf_path, atomically; the page size comes from its @page."""
        html, pdf_path = Path(html).resolve(), Path(pdf_path)
        if not html.is_file():
            raise HailongError(_("{html}: HTML file to print not found", html=html))
        if self._one_by_one:
            return html_to_pdf(html, pdf_path, timeout=self.timeout)
        self._name = html.name
        self._events.clear()
        self._call("Page.navigate", {"url": html.as_uri()}, session=True)
        self._wait_event("Page.loadEventFired")
        self._call("Runtime.evaluate", {"expression": "document.fonts.ready.then(() => 1)",
                                        "awaitPromise": True}, session=True)
        data = base64.b64decode(self._call("Page.printToPDF", PRINT, session=True)["data"])
        if not data.startswith(b"%PDF-"):
            self._fail("no PDF data")
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(pdf_path, data, fsync=False)
        return pdf_path

    def close(self) -> None:
        if self._one_by_one:
            return
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            try:
                self._send("Browser.close", {})
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
            if proc.poll() is None:
                procpool.kill_tree(proc)
                proc.wait()
        for fd in ("_read_fd", "_write_fd"):
            if getattr(self, fd, None) is not None:
                os.close(getattr(self, fd))
                setattr(self, fd, None)
        self._stderr.close()
        self._profile.cleanup()

    # -- the protocol --------------------------------------------------------------------

    def _send(self, method: str, params: dict, session: bool = False) -> int:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        data = json.dumps(message).encode("utf-8") + b"\0"
        while data:
            data = data[os.write(self._write_fd, data):]
        return self._next_id

    def _call(self, method: str, params: dict | None = None, session: bool = False) -> dict:
        try:
            wanted = self._send(method, params or {}, session)
        except BrokenPipeError:
            self._fail()
        while True:
            message = self._receive()
            if message.get("id") == wanted:
                if "error" in message:
                    self._fail(str(message["error"].get("message", message["error"])))
                return message.get("result", {})
            if "method" in message:
                self._events.append(message)

    def _wait_event(self, method: str) -> None:
        while not any(event["method"] == method for event in self._events):
            message = self._receive()
            if "method" in message:
                self._events.append(message)

    def _receive(self) -> dict:
        deadline = time.monotonic() + self.timeout
        chunks = [self._buffer]
        while b"\0" not in chunks[-1]:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._read_fd], [], [], left)[0]:
                self._stop()
                raise HailongError(_("{html_name}: Chromium took more than {timeout:.0f} s to "
                                     "print; print fewer pages at once or check the machine's "
                                     "load", html_name=self._name, timeout=self.timeout))
            chunk = os.read(self._read_fd, 1 << 20)
            if not chunk:
                self._fail()
            chunks.append(chunk)
        line, self._buffer = b"".join(chunks).split(b"\0", 1)
        return json.loads(line)

    def _stop(self) -> None:
        if self._proc.poll() is None:
            procpool.kill_tree(self._proc)
        self._proc.wait()

    def _fail(self, reason: str | None = None):
        """The browser failed or quit: one line with its most useful message."""
        if reason is None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self._proc.poll() is None:
            self._stop()
        self._stderr.seek(0)
        # Headless Chromium always complains about D-Bus; the useful line is another one.
        lines = [line for line in self._stderr.read().strip().splitlines()
                 if "dbus" not in line.lower()]
        last = reason or (lines[-1] if lines else "no message")
        raise HailongError(_("{html_name}: Chromium could not print it to PDF (exit "
                             "{returncode}: {last}); check that chromium runs",
                             html_name=self._name, returncode=self._proc.returncode, last=last))
