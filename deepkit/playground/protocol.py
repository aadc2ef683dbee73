"""The playground's protocol: small JSON requests and answers, and a long poll for frames.

=================================  ==============================================================
request                            answer
=================================  ==============================================================
``POST /api/session``              ``{"query": "dataset=xor&..."}`` -> the new session's state
                                   (settings read leniently: notes for what fell back to defaults)
``POST /api/control``              ``{"session", "action": play|pause|step|reset|settings|regenerate,
                                   "settings": {...}}`` -> ``{"playing", "frame"}`` (play, pause, step) or
                                   the session's state (the others; settings are checked strictly)
``GET /api/frame?session&after``   the latest frame once its ``seq`` is above ``after`` (waits up to
                                   ``wait`` seconds, default 10)
``POST /api/upload?session=``      CSV text ``x1,x2,label`` -> the state, on those points
``POST /api/predict``              ``{"session", "points": [[x1, x2], ...]}`` -> ``{"outputs"}``
``GET /api/export/NAME?session=``  ``playground.yaml`` (spec), ``playground.keras``,
                                   ``playground-data.npz``, ``report.txt`` (the atlas command)
``POST /api/close``                ``{"session"}`` -> ``{"closed": true}``
=================================  ==============================================================

Errors answer ``{"error": "..."}`` with 400 (bad request, limits), 404 (unknown session), 413 (too
large) or 503 (too many pages), never a traceback.

Example:
    >>> p = Playground()
    >>> status, kind, body = p.handle("GET", "/api/nothing", {}, b"")
    >>> status, json.loads(body)["error"][:28]
    (404, 'no such playground request: ')
    >>> p.stop()
"""

import json
import urllib.parse

from deepkit.playground import config as pconfig
from deepkit.playground.config import LIMITS, LimitError
from deepkit.playground.worker import SessionLimitError, UnknownSessionError, Worker

__all__ = ["Playground", "EXPORTS", "report_command"]

#: Export names -> content type.
EXPORTS = {"playground.yaml": "application/x-yaml", "playground.keras": "application/octet-stream",
           "playground-data.npz": "application/octet-stream", "report.txt": "text/plain; charset=utf-8"}
_JSON = "application/json"
_DISPLAY_ONLY = ("showTestData", "discretize")
_MAX_BODY = LIMITS["csv_bytes"] + 1024


def report_command(problem):
    """The shell command that opens an exported network's atlas.

    The atlas of a model on points of the plane: its layer and unit pages, each neuron over the plane
    as the playground draws it, and the decision map (a regression network's output map).

    Args:
        problem: ``"classification"`` or ``"regression"`` (the same command for both).

    Returns:
        The text (one command).

    Example:
        >>> print(report_command("classification"))
        deepkit report playground.keras --data playground-data.npz --out playground-atlas
    """
    del problem  # the report tells a regression network from a classifier by its output
    return "deepkit report playground.keras --data playground-data.npz --out playground-atlas"


def _answer(status, payload):
    return status, _JSON, json.dumps(payload, allow_nan=False).encode()


def _error(status, message):
    return _answer(status, {"error": str(message)})


class Playground:
    """The protocol over a :class:`deepkit.playground.worker.Worker` (no HTTP here: see ``server.py``).

    Args:
        worker: the model thread (a new one by default).

    Example:
        >>> p = Playground()
        >>> p.handle("POST", "/api/close", {}, b'{"session": "x"}')[0]
        200
        >>> p.stop()
    """

    def __init__(self, worker=None):
        self.worker = worker or Worker()

    def stop(self):
        """Stop the model thread.

        Returns:
            None.

        Example:
            >>> Playground().stop()
        """
        self.worker.stop()

    def handle(self, method, path, params, body):
        """Answer one request.

        Args:
            method: ``"GET"`` or ``"POST"``.
            path: the URL path (``/api/...``).
            params: the query parameters (name -> first value).
            body: the request body (bytes).

        Returns:
            ``(status, content_type, body bytes)``.

        Example:
            >>> p = Playground()
            >>> p.handle("POST", "/api/control", {}, b"not json")[0]
            400
            >>> p.stop()
        """
        try:
            if len(body) > _MAX_BODY:
                return _error(413, f"request body too large: at most {_MAX_BODY} bytes. Received: {len(body)} bytes")
            route = (method, path)
            if route == ("POST", "/api/session"):
                return self._create(_json(body))
            if route == ("POST", "/api/control"):
                return self._control(_json(body))
            if route == ("GET", "/api/frame"):
                return self._frame(params)
            if route == ("POST", "/api/upload"):
                return self._upload(params, body)
            if route == ("POST", "/api/predict"):
                return self._predict(_json(body))
            if route == ("POST", "/api/close"):
                self.worker.close(str(_json(body).get("session", "")))
                return _answer(200, {"closed": True})
            if method == "GET" and path.startswith("/api/export/"):
                return self._export(path[len("/api/export/"):], params)
            return _error(404, f"no such playground request: {method} {path[:80]}")
        except SessionLimitError as e:
            return _error(503, e)
        except LimitError as e:
            return _error(400, e)
        except UnknownSessionError as e:
            return _error(404, e.args[0])
        except (ValueError, TypeError) as e:
            return _error(400, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        except Exception as e:  # noqa: BLE001 - a one-line answer, never a traceback
            return _error(500, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")

    # ---------------------------------------------------------------------------- requests
    def _create(self, request):
        query = request.get("query", "")
        if not isinstance(query, str):
            raise LimitError(f"query must be the URL's query string. Received: {type(query).__name__}")
        config, notes = pconfig.from_query(query)
        session = self.worker.create(config, notes)
        return _answer(200, self.worker.call(session.state))

    def _control(self, request):
        session = self.worker.get(request.get("session"))
        action = request.get("action")
        if action == "play":
            self.worker.set_playing(session, True)
            return _answer(200, {"playing": True, "frame": session.latest})
        if action == "pause":
            self.worker.set_playing(session, False)
            return _answer(200, {"playing": False, "frame": session.latest})
        if action == "step":
            self.worker.set_playing(session, False)
            frame = self.worker.call(session.update)
            self.worker.publish()
            return _answer(200, {"playing": False, "frame": frame})
        if action == "reset":
            self.worker.set_playing(session, False)

            def reset():
                session.resets += 1
                session.build()
            self.worker.call(reset)
        elif action == "regenerate":
            self.worker.set_playing(session, False)
            seed = (session.config["seed"] + 1) % (2**31 - 1)
            session.config = pconfig.checked({"seed": seed}, base=session.config)
            self.worker.call(session.build)
        elif action == "settings":
            changed = pconfig.checked(request.get("settings", {}), base=session.config)
            if changed["dataset"] == "csv" and session.uploaded is None:
                raise LimitError("dataset 'csv': upload a CSV of points first")
            if all(changed[k] == session.config[k] for k in changed if k not in _DISPLAY_ONLY):
                session.config = changed  # how the page draws, not what it trains: no restart
                state = self.worker.call(session.state)
                return _answer(200, state)
            self.worker.set_playing(session, False)
            old = session.config
            session.config = changed
            try:
                self.worker.call(session.build)
            except Exception:
                session.config = old
                raise
        else:
            raise LimitError(f"action must be play, pause, step, reset, regenerate or settings. "
                             f"Received: {action!r}")
        self.worker.publish()
        return _answer(200, self.worker.call(session.state))

    def _frame(self, params):
        session = self.worker.get(params.get("session"))
        try:
            after = int(params.get("after", 0))
            wait = min(30.0, max(0.0, float(params.get("wait", 10))))
        except ValueError:
            raise LimitError(f"after and wait must be numbers. Received: after={params.get('after')!r}, "
                             f"wait={params.get('wait')!r}") from None
        frame = self.worker.wait_frame(session, after, wait)
        return _answer(200, {"frame": frame, "playing": session.playing, "notes": session.notes})

    def _upload(self, params, body):
        from deepkit.playground.data import parse_csv

        session = self.worker.get(params.get("session"))
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise LimitError("CSV: the file is not UTF-8 text") from None
        uploaded = parse_csv(text)
        self.worker.set_playing(session, False)
        old = (session.uploaded, session.config)
        session.uploaded = uploaded
        session.config = pconfig.checked({"dataset": "csv", "problem": uploaded[2]}, base=session.config)
        try:
            self.worker.call(session.build)
        except Exception:
            session.uploaded, session.config = old
            raise
        self.worker.publish()
        return _answer(200, self.worker.call(session.state))

    def _predict(self, request):
        session = self.worker.get(request.get("session"))
        points = request.get("points")
        if not isinstance(points, list) or not points or len(points) > LIMITS["points"]:
            raise LimitError(f"points: a list of 1 to {LIMITS['points']} [x1, x2] pairs. "
                             f"Received: {type(points).__name__} of {len(points) if isinstance(points, list) else 0}")
        if not all(isinstance(p, list) and len(p) == 2 and all(isinstance(v, (int, float)) for v in p)
                   for p in points):
            raise LimitError("points: each point must be [x1, x2], two numbers")
        outputs = self.worker.call(lambda: session.predict(points))
        return _answer(200, {"outputs": [float(v) for v in outputs]})

    def _export(self, name, params):
        if name not in EXPORTS:
            return _error(404, f"no export {name[:60]!r}; expected one of {', '.join(EXPORTS)}")
        session = self.worker.get(params.get("session"))
        if name == "playground.yaml":
            body = self.worker.call(session.spec_yaml).encode()
        elif name == "playground.keras":
            body = self.worker.call(session.keras_bytes)
        elif name == "playground-data.npz":
            body = self.worker.call(session.data_npz_bytes)
        else:
            body = (report_command(session.problem) + "\n").encode()
        return 200, EXPORTS[name], body


def _json(body):
    try:
        value = json.loads(body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LimitError(f"the request body must be JSON ({type(e).__name__}). Received: {body[:40]!r}") from None
    if not isinstance(value, dict):
        raise LimitError(f"the request body must be a JSON object. Received: {type(value).__name__}")
    return value


def parse_params(query):
    """Query parameters, first value of each.

    Args:
        query: the URL's query string.

    Returns:
        A dict.

    Example:
        >>> parse_params("session=ab&after=3")
        {'session': 'ab', 'after': '3'}
    """
    return {k: v[0] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
