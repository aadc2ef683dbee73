"""The playground's web server: the standard library's ``ThreadingHTTPServer``, on 127.0.0.1.

No server library is needed: the page's requests are small JSON messages and a long poll for frames
(:mod:`deepkit.playground.protocol`), which ``http.server`` carries well for one user's browser. The
page, its script and its styles are package data (``deepkit/playground/static``): nothing is fetched
from the network. The server binds the loopback interface unless ``host`` says otherwise (with a
warning: the playground has no authentication), and Ctrl-C stops it cleanly.

Example:
    >>> server = make_server(port=0)
    >>> server.server_address[0]
    '127.0.0.1'
    >>> server.close()
"""

import http.server
import importlib.resources
import ipaddress
import signal
import sys
import threading
import urllib.parse
import warnings
import webbrowser

from deepkit.playground.protocol import Playground, parse_params

__all__ = ["make_server", "serve", "PlaygroundServer", "STATIC_FILES"]

#: The files the page is made of (served from the package; nothing else is).
STATIC_FILES = {"index.html": "text/html; charset=utf-8", "playground.js": "text/javascript; charset=utf-8",
                "playground.css": "text/css; charset=utf-8"}


def _static(name):
    return importlib.resources.files("deepkit.playground").joinpath("static", name).read_bytes()


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "deepkit-playground"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        if self.server.verbose:
            sys.stderr.write(f"playground: {self.address_string()} {format % args}\n")

    def _send(self, status, content_type, body, extra=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self, method):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        if method == "GET" and (path == "/" or path == "/index.html"):
            return self._send(200, STATIC_FILES["index.html"], _static("index.html"))
        if method == "GET" and path.startswith("/static/") and path[len("/static/"):] in STATIC_FILES:
            name = path[len("/static/"):]
            return self._send(200, STATIC_FILES[name], _static(name))
        if method == "GET" and path == "/favicon.ico":
            return self._send(204, "image/x-icon", b"")
        if not path.startswith("/api/"):
            return self._send(404, "text/plain; charset=utf-8", f"not found: {path[:80]}".encode())
        length = int(self.headers.get("Content-Length") or 0)
        if length > 2_000_000:
            self.close_connection = True
            return self._send(413, "application/json", b'{"error": "request body too large"}')
        body = self.rfile.read(length) if length else b""
        status, content_type, payload = self.server.playground.handle(method, path, parse_params(url.query), body)
        extra = {}
        if path.startswith("/api/export/") and status == 200:
            extra["Content-Disposition"] = f'attachment; filename="{path.rsplit("/", 1)[-1]}"'
        return self._send(status, content_type, payload, extra)

    def do_GET(self):  # noqa: N802 - http.server's name
        self._route("GET")

    def do_HEAD(self):  # noqa: N802
        self._route("GET")

    def do_POST(self):  # noqa: N802
        self._route("POST")


class PlaygroundServer(http.server.ThreadingHTTPServer):
    """The HTTP server with its :class:`deepkit.playground.protocol.Playground`.

    Args:
        address: ``(host, port)``.
        verbose: log every request to stderr.

    Example:
        >>> s = PlaygroundServer(("127.0.0.1", 0)); s.url.startswith("http://127.0.0.1:")
        True
        >>> s.close()
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, verbose=False):
        super().__init__(address, _Handler)
        self.verbose = verbose
        self.playground = Playground()

    def handle_error(self, request, client_address):
        """A page that went away mid-answer (reload, closed tab) is normal: no traceback; others one line."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        sys.stderr.write(f"deepkit playground: request from {client_address[0]} failed: "
                         f"{type(error).__name__}: {error}\n")

    @property
    def url(self):
        """The page's address.

        Returns:
            ``http://host:port/``.

        Example:
            >>> s = PlaygroundServer(("127.0.0.1", 0)); s.url.endswith("/")
            True
            >>> s.close()
        """
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}/"

    def close(self):
        """Stop the model thread and close the socket.

        Returns:
            None.

        Example:
            >>> PlaygroundServer(("127.0.0.1", 0)).close()
        """
        self.playground.stop()
        self.server_close()


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_server(host="127.0.0.1", port=8765, verbose=False):
    """A playground server bound to ``host:port`` (not yet serving).

    Args:
        host: the interface; anything but loopback warns (the playground has no authentication).
        port: the port (0: any free one).
        verbose: log every request.

    Returns:
        A :class:`PlaygroundServer`.

    Raises:
        OSError: the port is taken (the message says which and what to do).

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     s = make_server("0.0.0.0", 0)
        >>> "reachable from other machines" in str(caught[0].message)
        True
        >>> s.close()
    """
    if not _is_loopback(host):
        warnings.warn(f"deepkit playground: serving on {host!r}: the playground is reachable from other "
                      "machines and has no authentication; anyone who can reach it can run training on this "
                      "machine. Use the default 127.0.0.1 unless you mean it.", UserWarning, stacklevel=2)
    try:
        return PlaygroundServer((host, port), verbose=verbose)
    except OSError as e:
        raise OSError(f"cannot listen on {host}:{port} ({e.strerror or e}); pick another with --port N "
                      "(0: any free port)") from None


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def serve(host="127.0.0.1", port=8765, open_browser=True, verbose=False, ready=None, out=None):
    """Run the playground until Ctrl-C (or ``server.shutdown()``).

    Args:
        host: the interface (see :func:`make_server`).
        port: the port (0: any free one).
        open_browser: open the page in the default browser.
        verbose: log every request.
        ready: called with the server once it listens (tests use it).
        out: where to print the address (default ``sys.stdout``).

    Returns:
        0 once stopped.

    Example:
        >>> import threading
        >>> def stop_soon(server):
        ...     threading.Thread(target=server.shutdown).start()
        >>> import io
        >>> serve(port=0, open_browser=False, ready=stop_soon, out=io.StringIO())
        0
    """
    out = out or sys.stdout
    server = make_server(host, port, verbose=verbose)
    saved = {}
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C stops the server even where SIGINT came in ignored (a job started in the background),
        # and so does SIGTERM; the handlers before are put back at the end.
        saved = {signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
                 signal.SIGTERM: signal.signal(signal.SIGTERM, _interrupt)}
    print(f"deepkit playground: {server.url}  (Ctrl-C stops it)", file=out, flush=True)
    if open_browser:
        threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
    if ready is not None:
        ready(server)
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        print("deepkit playground: stopped", file=out, flush=True)
    finally:
        server.close()
        for signum, handler in saved.items():
            if handler is not None:  # None: a handler not set from Python, which cannot be put back
                signal.signal(signum, handler)
    return 0
