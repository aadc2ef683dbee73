"""A fake page: drives a playground server over its real HTTP protocol (not a test module)."""

import contextlib
import json
import threading
import time
import urllib.error
import urllib.request

from deepkit.playground.server import make_server


@contextlib.contextmanager
def running_server():
    """A playground server on a free loopback port, serving in a thread; closed afterwards."""
    server = make_server(port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.close()
        thread.join(10)


class Client:
    """Requests as the page makes them; ``status`` and ``answer`` of the last one."""

    def __init__(self, url):
        self.url = url.rstrip("/")
        self.session = None

    def request(self, method, path, body=None, raw=False, expect=200):
        data = None
        if body is not None:
            data = body.encode() if raw else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=120) as response:
                status, payload, kind = response.status, response.read(), response.headers["Content-Type"]
        except urllib.error.HTTPError as e:
            status, payload, kind = e.code, e.read(), e.headers["Content-Type"]
        assert status == expect, (status, payload[:300])
        return json.loads(payload) if kind == "application/json" else payload

    def open(self, query="", **kw):
        state = self.request("POST", "/api/session", {"query": query}, **kw)
        if "session" in state:
            self.session = state["session"]
        return state

    def control(self, action, settings=None, expect=200):
        body = {"session": self.session, "action": action}
        if settings is not None:
            body["settings"] = settings
        return self.request("POST", "/api/control", body, expect=expect)

    def frame(self, after=0, wait=10):
        return self.request("GET", f"/api/frame?session={self.session}&after={after}&wait={wait}")

    def wait_epoch(self, epoch, timeout=120):
        """The first frame at or past ``epoch``."""
        end, seq = time.monotonic() + timeout, 0
        while time.monotonic() < end:
            frame = self.frame(after=seq, wait=5)["frame"]
            seq = frame["seq"]
            if frame["epoch"] >= epoch:
                return frame
        raise AssertionError(f"epoch {epoch} not reached in {timeout} s")
