"""Open an HTML page in headless Chromium, check it, and take a screenshot.

Speaks the Chrome DevTools protocol over ``--remote-debugging-pipe`` (JSON messages
separated by NUL bytes on file descriptors 3 and 4), so it needs nothing but the
``chromium`` binary: no websocket library, no Selenium, no network. Used by the report
tests and by ``deepkit report --screenshot``.
"""

import base64
import dataclasses
import json
import os
import pathlib
import select
import shutil
import subprocess
import tempfile
import time

__all__ = ["find_chromium", "check_page", "PageCheck"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium():
    """Path of a Chromium/Chrome executable, or ``None``.

    ``$DEEPKIT_CHROMIUM`` wins; then ``chromium``, ``chromium-browser``,
    ``google-chrome`` on the ``PATH``.

    Returns:
        The executable path, or ``None`` when there is none.

    Example:
        >>> path = find_chromium()
        >>> path is None or os.path.exists(path)
        True
    """
    env = os.environ.get("DEEPKIT_CHROMIUM")
    if env:
        return env if os.path.exists(env) else shutil.which(env)
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclasses.dataclass
class PageCheck:
    """What headless Chromium saw on a page.

    Attributes:
        images: one dict per ``<img>``: ``alt``, ``natural_width``,
            ``natural_height``, ``decoded`` (the browser decoded it).
        console_errors: console ``error``/``assert`` messages, uncaught
            exceptions and failed loads (``Log`` errors), as strings.
        title: the document title.
        screenshot: path of the PNG written, or ``None``.
        page_height: the page's full height in CSS pixels.

    Example:
        >>> PageCheck(images=[], console_errors=[], title="t").ok
        True
    """

    images: list
    console_errors: list
    title: str = ""
    screenshot: str = None
    page_height: int = 0

    @property
    def ok(self):
        """True when there is no console error and every image decoded with a size."""
        return not self.console_errors and all(
            im["decoded"] and im["natural_width"] > 0 for im in self.images)


class _Pipe:
    def __init__(self, proc, write_fd, read_fd, timeout):
        self.proc, self.wfd, self.rfd = proc, write_fd, read_fd
        self.deadline = time.time() + timeout
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self.wfd, data)
            data = data[n:]
        return self._wait(lambda m: m.get("id") == self.next_id, method)

    def _read_message(self):
        while b"\0" not in self.buf:
            left = self.deadline - time.time()
            if left <= 0:
                raise TimeoutError("check_page: Chromium did not answer in time.")
            ready, _, _ = select.select([self.rfd], [], [], min(left, 1.0))
            if not ready:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"check_page: Chromium exited with code {self.proc.returncode}.")
                continue
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                raise RuntimeError("check_page: Chromium closed the DevTools pipe.")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def _wait(self, match, what):
        for i, ev in enumerate(self.events):
            if match(ev):
                return self.events.pop(i)
        while True:
            msg = self._read_message()
            if match(msg):
                if "error" in msg:
                    raise RuntimeError(f"check_page: DevTools {what} failed: {msg['error']}")
                return msg
            self.events.append(msg)

    def wait_event(self, method):
        return self._wait(lambda m: m.get("method") == method, method)


# Lazy images below the first screen never start loading in a headless window, and their decode()
# would never settle: every image is switched to eager loading first.
_IMAGES_JS = """
Promise.all(Array.from(document.images).map(img => { img.loading = "eager"; return img; }).map(img => img.decode().then(
    () => true, () => false).then(ok => ({alt: img.alt, natural_width: img.naturalWidth,
    natural_height: img.naturalHeight, decoded: ok}))))
"""


def _errors_from(events):
    errors = []
    for ev in events:
        method, params = ev.get("method"), ev.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            errors.append(f"console.{params['type']}: {args}")
        elif method == "Runtime.exceptionThrown":
            det = params.get("exceptionDetails", {})
            desc = det.get("exception", {}).get("description") or det.get("text", "")
            errors.append(f"uncaught exception: {desc}")
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            if entry.get("level") == "error":
                errors.append(f"{entry.get('source', 'log')}: {entry.get('text', '')} "
                              f"{entry.get('url', '')}".strip())
    return errors


def check_page(html_path, screenshot=None, width=1280, max_height=20000, timeout=90,
               chromium=None):
    """Load a local HTML file in headless Chromium; report images, console errors; screenshot.

    Args:
        html_path: the ``.html`` file.
        screenshot: PNG path for a full-page screenshot (``None``: none).
        width: viewport width in CSS pixels.
        max_height: cap of the screenshot height.
        timeout: seconds for the whole check.
        chromium: executable (default :func:`find_chromium`).

    Returns:
        A :class:`PageCheck`.

    Raises:
        FileNotFoundError: without Chromium or without the page.
        TimeoutError, RuntimeError: when the browser fails.

    Example:
        >>> import tempfile, os
        >>> page = os.path.join(tempfile.mkdtemp(), "p.html")
        >>> _ = open(page, "w").write("<title>hi</title><p>hello</p>")
        >>> find_chromium() is None or check_page(page).title == "hi"
        True
    """
    exe = chromium or find_chromium()
    if exe is None:
        raise FileNotFoundError(
            "check_page: no Chromium found (install the Debian package 'chromium', or set "
            "$DEEPKIT_CHROMIUM)."
        )
    html_path = os.path.abspath(os.fspath(html_path))
    if not os.path.isfile(html_path):
        raise FileNotFoundError(f"check_page: no such file: {html_path!r}")
    profile = tempfile.mkdtemp(prefix="deepkit-chromium-")
    cmd_r, cmd_w = os.pipe()  # we write commands, Chromium reads fd 3
    res_r, res_w = os.pipe()  # Chromium writes fd 4, we read
    # The pipes go in as the child's stdin/stdout and a shell moves them to fds 3 and 4: no
    # preexec_fn, so no fork() of this (multi-threaded: TensorFlow, JAX) process.
    shell = 'exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null'
    args = ["/bin/sh", "-c", shell, exe, "--headless", "--disable-gpu", "--no-sandbox", "--remote-debugging-pipe",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}",
            f"--window-size={width},900", "about:blank"]
    proc = subprocess.Popen(args, stdin=cmd_r, stdout=res_w, stderr=subprocess.DEVNULL)
    os.close(cmd_r)
    os.close(res_w)
    pipe = _Pipe(proc, cmd_w, res_r, timeout)
    try:
        target = pipe.send("Target.createTarget", {"url": "about:blank"})["result"]["targetId"]
        session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True}
                            )["result"]["sessionId"]
        for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
            pipe.send(domain, session=session)
        pipe.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                  session=session)
        pipe.send("Page.navigate", {"url": pathlib.Path(html_path).as_uri()}, session=session)
        pipe.wait_event("Page.loadEventFired")
        images = pipe.send("Runtime.evaluate", {"expression": _IMAGES_JS, "awaitPromise": True,
                                                "returnByValue": True}, session=session)
        images = images["result"]["result"].get("value", [])
        title = pipe.send("Runtime.evaluate", {"expression": "document.title",
                                               "returnByValue": True}, session=session)
        title = title["result"]["result"].get("value", "")
        metrics = pipe.send("Page.getLayoutMetrics", session=session)["result"]
        size = metrics.get("cssContentSize") or metrics.get("contentSize")
        height = int(size["height"])
        shot = None
        if screenshot is not None:
            h = min(height, max_height)
            pipe.send("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": h, "deviceScaleFactor": 1, "mobile": False},
                      session=session)
            data = pipe.send("Page.captureScreenshot",
                             {"format": "png", "captureBeyondViewport": True,
                              "clip": {"x": 0, "y": 0, "width": width, "height": h, "scale": 1}},
                             session=session)["result"]["data"]
            shot = os.fspath(screenshot)
            parent = os.path.dirname(shot)
            if parent:
                os.makedirs(parent, exist_ok=True)
            with open(shot, "wb") as f:
                f.write(base64.b64decode(data))
        # give late console messages (e.g. from load handlers) a moment to arrive
        pipe.send("Runtime.evaluate", {"expression": "1", "returnByValue": True}, session=session)
        errors = _errors_from(pipe.events)
        try:
            pipe.send("Browser.close")
        except Exception:
            pass
        return PageCheck(images=images, console_errors=errors, title=title, screenshot=shot,
                         page_height=height)
    finally:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(cmd_w)
        os.close(res_r)
        shutil.rmtree(profile, ignore_errors=True)
