"""Headless Chromium for static pages: a full-page screenshot and the page's console errors.

Chromium is driven through the DevTools protocol over a pipe (`--remote-debugging-pipe`:
JSON messages ended by a NUL byte on file descriptors 3 and 4), so no port, no websocket
library and no network access are needed.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import math
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
)
# console API calls that count as errors (console.error, console.assert failures)
ERROR_CONSOLE_TYPES = ("error", "assert")


class BrowserError(RuntimeError):
    """Chromium is missing or failed to start, answer or render the page."""


class BrowserMissingError(BrowserError):
    """No Chromium executable on PATH."""


@dataclass
class PageResult:
    """What the browser saw: console errors, requested URLs, page size, evaluated value."""

    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    width: int = 0
    height: int = 0
    value: Any = None


def find_browser() -> str:
    """Path of the Chromium executable (SHOPSEG_CHROMIUM, else the first on PATH).

    Returns
    -------
    str
        The executable: SHOPSEG_CHROMIUM when set, else the first of BROWSER_NAMES on PATH.

    Raises
    ------
    BrowserMissingError
        When none is found; the message names ``make browser``.
    """
    override = os.environ.get("SHOPSEG_CHROMIUM")
    candidates = [override] if override else list(BROWSER_NAMES)
    for name in candidates:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserMissingError(
        f"no Chromium found on PATH (looked for {', '.join(candidates)}): "
        "run `make browser` to install Debian's chromium"
    )


class _Pipe:
    """A DevTools protocol session over Chromium's --remote-debugging-pipe."""

    def __init__(self, proc: subprocess.Popen, write_fd: int, read_fd: int, timeout: float):
        self.proc, self.write_fd, self.read_fd = proc, write_fd, read_fd
        self.deadline = time.monotonic() + timeout
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one command and wait for its answer; events seen meanwhile are kept."""
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise BrowserError(f"chromium: {method} failed: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, session: str | None = None) -> dict:
        """Wait for an event of the session (it may have arrived already)."""
        while True:
            for event in self.events:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            self.events.append(self._read())

    def _read(self) -> dict:
        while b"\0" not in self.buffer:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("chromium did not answer in time")
            ready, _, _ = select.select([self.read_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.read_fd, 1 << 20)
            if not chunk:
                raise BrowserError(f"chromium exited (code {self.proc.poll()})")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)


def _console_error(event: dict) -> str | None:
    """The text of an event that is a page error, else None."""
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.consoleAPICalled" and params.get("type") in ERROR_CONSOLE_TYPES:
        args = params.get("args", [])
        text = " ".join(str(a.get("value", a.get("description", ""))) for a in args)
        return f"console.{params['type']}: {text}"
    if method == "Runtime.exceptionThrown":
        details = params.get("exceptionDetails", {})
        description = details.get("exception", {}).get("description") or details.get("text")
        return f"uncaught exception: {description}"
    if method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
        entry = params["entry"]
        return f"{entry.get('source', 'log')} error: {entry.get('text')} {entry.get('url', '')}"
    return None


@contextlib.contextmanager
def _chromium(width: int, timeout: float) -> Iterator[_Pipe]:
    """A headless Chromium with a throwaway profile, driven over the debugging pipe."""
    browser = find_browser()
    with (
        tempfile.TemporaryDirectory(
            prefix="shopseg-chromium-", ignore_cleanup_errors=True
        ) as profile,
        tempfile.TemporaryFile() as log,
    ):
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()

        def child_fds() -> None:  # the protocol pipe must be fds 3 (commands) and 4 (answers)
            commands = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            answers = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(commands, 3)
            os.dup2(answers, 4)

        cmd = [
            browser,
            *CHROMIUM_FLAGS,
            f"--window-size={width},800",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        # close_fds=False: Popen would close 3 and 4 after preexec_fn; Python's own
        # descriptors are not inherited anyway (PEP 446)
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            preexec_fn=child_fds,
            close_fds=False,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        try:
            yield _Pipe(proc, to_browser_w, from_browser_r, timeout)
        except BrowserError as exc:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-3000:]
            raise BrowserError(f"{exc}\n{' '.join(cmd)}\nchromium output (tail):\n{tail}") from None
        finally:
            os.close(to_browser_w)
            os.close(from_browser_r)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def render_page(
    html_path: str | Path,
    screenshot: str | Path | None = None,
    width: int = 1400,
    evaluate: str | None = None,
    timeout: float = 90.0,
) -> PageResult:
    """Load a local HTML file in headless Chromium and report what the page did.

    Collects its console errors, the URLs it requested, a JavaScript value and optionally
    a full-page PNG.

    Parameters
    ----------
    html_path : str or Path
        The page, opened as a ``file://`` URL.
    screenshot : str or Path or None, default=None
        Where to write a full-page PNG (``width`` pixels wide); None takes none.
    width : int, default=1400
        Window width in CSS pixels.
    evaluate : str or None, default=None
        A JavaScript expression evaluated after load (promises are awaited); its value is
        returned as ``PageResult.value``.
    timeout : float, default=90.0
        Seconds the whole session may take.

    Returns
    -------
    PageResult
        Console errors and uncaught exceptions, requested URLs, the page's content size and
        the evaluated value.

    Raises
    ------
    BrowserError
        When Chromium is missing, fails or does not answer in time (the message ends with
        its output).
    """
    url = Path(html_path).resolve().as_uri()
    result = PageResult()
    with _chromium(width, timeout) as pipe:
        target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            pipe.send(f"{domain}.enable", session=session)
        pipe.send("Page.navigate", {"url": url}, session=session)
        pipe.wait_event("Page.loadEventFired", session=session)
        # two animation frames: layout and paint are done, late console messages are in
        settle = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        pipe.send("Runtime.evaluate", {"expression": settle, "awaitPromise": True}, session)
        if evaluate is not None:
            answer = pipe.send(
                "Runtime.evaluate",
                {"expression": evaluate, "returnByValue": True, "awaitPromise": True},
                session,
            )
            if "exceptionDetails" in answer:
                raise BrowserError(f"chromium: evaluate failed: {answer['exceptionDetails']}")
            result.value = answer.get("result", {}).get("value")
        size = pipe.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
        result.width, result.height = math.ceil(size["width"]), math.ceil(size["height"])
        if screenshot is not None:
            metrics = {"width": width, "height": result.height, "deviceScaleFactor": 1}
            pipe.send("Emulation.setDeviceMetricsOverride", metrics | {"mobile": False}, session)
            shot = pipe.send("Page.captureScreenshot", {"format": "png"}, session)
            out = Path(screenshot)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(base64.b64decode(shot["data"]))
        for event in pipe.events:
            if event.get("sessionId") != session:
                continue
            error = _console_error(event)
            if error is not None:
                result.console_errors.append(error)
            if event.get("method") == "Network.requestWillBeSent":
                result.requests.append(event["params"]["request"]["url"])
        with contextlib.suppress(BrowserError):  # the browser closes the pipe as it goes
            pipe.send("Browser.close")
    return result
