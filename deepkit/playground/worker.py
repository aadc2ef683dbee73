"""The playground's one model thread: every Keras call of every session runs here.

The web server's request threads never touch Keras: they hand a job to the :class:`Worker` and wait
for its answer (:meth:`Worker.call`), or read the latest frame of a session
(:meth:`Worker.wait_frame`, a long poll). Between jobs the worker trains the sessions that are
playing, one update each in turn, and publishes each new frame. Pause takes effect at once: the flag
is read before every update. A session whose page has stopped asking for frames is paused after
``STALE_S`` seconds and dropped after ``DROP_S``.

Example:
    >>> w = Worker()
    >>> w.call(lambda: 1 + 1)
    2
    >>> w.stop()
"""

import queue
import threading
import time
import uuid

from deepkit.playground.config import LIMITS, LimitError

__all__ = ["Worker", "SessionLimitError", "UnknownSessionError", "STALE_S", "DROP_S"]

#: A playing session whose page asked for no frame for this long is paused.
STALE_S = 60.0
#: A session whose page has not been heard from for this long is dropped.
DROP_S = 900.0


class SessionLimitError(LimitError):
    """More pages at once than the server allows (``LIMITS["sessions"]``).

    Example:
        >>> issubclass(SessionLimitError, ValueError)
        True
    """


class UnknownSessionError(KeyError):
    """A session id the server does not know (expired, closed, or from before a restart).

    Example:
        >>> str(UnknownSessionError("no session 'x'"))
        '"no session \\'x\\'"'
    """


class Worker:
    """The thread that owns every session's model (see the module's docstring).

    Args:
        session_factory: ``(session_id, config, notes) -> Session``; the default makes a
            :class:`deepkit.playground.session.Session` (which imports Keras, in the worker thread).

    Example:
        >>> w = Worker()
        >>> w.sessions
        {}
        >>> w.stop()
    """

    def __init__(self, session_factory=None):
        self.sessions = {}
        self._factory = session_factory
        self._jobs = queue.Queue()
        self._lock = threading.Condition()
        self._stopped = threading.Event()
        self._turn = 0
        self._thread = threading.Thread(target=self._run, name="deepkit-playground-model", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ called from request threads
    def call(self, function, timeout=300.0):
        """Run ``function()`` in the model thread and return its result (or raise its error).

        Args:
            function: a callable without arguments.
            timeout: seconds to wait for it.

        Returns:
            What ``function`` returned.

        Raises:
            TimeoutError: it did not finish in time; whatever ``function`` raised.

        Example:
            >>> w = Worker(); w.call(lambda: "done")
            'done'
            >>> w.stop()
        """
        if self._stopped.is_set():
            raise RuntimeError("the playground server is stopping")
        done = threading.Event()
        box = {}
        self._jobs.put((function, box, done))
        if not done.wait(timeout):
            raise TimeoutError(f"the model thread did not answer within {timeout:.0f} s")
        if "error" in box:
            raise box["error"]
        return box["value"]

    def create(self, config, notes=()):
        """A new session (its model built in the model thread).

        Args:
            config: a complete settings dict.
            notes: notes for the page.

        Returns:
            The session.

        Raises:
            SessionLimitError: ``LIMITS["sessions"]`` pages are open already.

        Example:
            >>> from deepkit.playground.config import checked
            >>> w = Worker(lambda i, c, n: type("S", (), {"id": i, "build": lambda self: None,
            ...            "playing": False, "last_seen": 0.0, "close": lambda self: None})())
            >>> w.create(checked({})).id in w.sessions
            True
            >>> w.stop()
        """
        with self._lock:
            if len(self.sessions) >= LIMITS["sessions"]:
                raise SessionLimitError(
                    f"at most {LIMITS['sessions']} playground pages at once; close one (or restart the server). "
                    f"Received: page {len(self.sessions) + 1}")
        factory = self._factory
        if factory is None:
            from deepkit.playground.session import Session as factory

        def make():
            session = factory(uuid.uuid4().hex[:12], config, notes)
            session.build()
            session.last_seen = time.monotonic()
            return session

        session = self.call(make)
        with self._lock:
            self.sessions[session.id] = session
        return session

    def get(self, session_id):
        """The session of an id (and note that its page is alive).

        Args:
            session_id: the id.

        Returns:
            The session.

        Raises:
            UnknownSessionError: no such session.

        Example:
            >>> w = Worker()
            >>> w.get("nope")
            Traceback (most recent call last):
            ...
            deepkit.playground.worker.UnknownSessionError: "no playground session 'nope' (closed or expired); reload the page"
            >>> w.stop()
        """
        with self._lock:
            session = self.sessions.get(session_id)
        if session is None:
            raise UnknownSessionError(f"no playground session {str(session_id)[:40]!r} (closed or expired); "
                                      "reload the page")
        session.last_seen = time.monotonic()
        return session

    def set_playing(self, session, playing):
        """Start or stop a session's training (stopping holds before the next update).

        Args:
            session: the session.
            playing: True to play.

        Returns:
            None.

        Example:
            >>> w = Worker(); s = type("S", (), {"playing": False})()
            >>> w.set_playing(s, False); s.playing
            False
            >>> w.stop()
        """
        with self._lock:
            session.playing = bool(playing)
            self._lock.notify_all()
        if playing:
            self._jobs.put(None)  # wake the thread

    def close(self, session_id):
        """Drop a session and its model.

        Args:
            session_id: the id (unknown ids are ignored).

        Returns:
            None.

        Example:
            >>> w = Worker(); w.close("x"); w.stop()
        """
        with self._lock:
            session = self.sessions.pop(session_id, None)
            if session is not None:
                session.playing = False
        if session is not None:
            try:
                self.call(session.close, timeout=30)
            except Exception:  # noqa: BLE001 - stopping anyway
                pass

    def wait_frame(self, session, after, timeout=10.0):
        """The session's latest frame once its number is above ``after`` (or the same one after ``timeout``).

        Args:
            session: the session.
            after: the number of the frame the page has.
            timeout: seconds to wait at most.

        Returns:
            The latest frame (a dict).

        Example:
            >>> w = Worker(); s = type("S", (), {"latest": {"seq": 3}, "last_seen": 0})()
            >>> w.wait_frame(s, 2)
            {'seq': 3}
            >>> w.stop()
        """
        end = time.monotonic() + timeout
        with self._lock:
            while (session.latest or {}).get("seq", 0) <= after and not self._stopped.is_set():
                left = end - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(min(left, 1.0))
        session.last_seen = time.monotonic()
        return session.latest

    def publish(self):
        """Wake the long polls (after a session's frame changed outside the play loop).

        Returns:
            None.

        Example:
            >>> w = Worker(); w.publish(); w.stop()
        """
        with self._lock:
            self._lock.notify_all()

    def stop(self):
        """Stop the thread (the sessions are dropped).

        Returns:
            None.

        Example:
            >>> Worker().stop()
        """
        self._stopped.set()
        with self._lock:
            for session in self.sessions.values():
                session.playing = False
            self._lock.notify_all()
        self._jobs.put(None)
        self._thread.join(timeout=10)

    # ------------------------------------------------------------------ the model thread
    def _run(self):
        last_sweep = time.monotonic()
        while not self._stopped.is_set():
            playing = self._playing()
            try:
                job = self._jobs.get_nowait() if playing else self._jobs.get(timeout=0.5)
            except queue.Empty:
                job = None
            if job is not None:
                function, box, done = job
                try:
                    box["value"] = function()
                except BaseException as e:  # noqa: BLE001 - handed to the caller
                    box["error"] = e
                done.set()
                continue
            if playing:
                session = playing[self._turn % len(playing)]
                self._turn += 1
                if session.playing:  # pause is read right before each update
                    try:
                        session.update()
                    except Exception as e:  # noqa: BLE001 - shown on the page, the server goes on
                        session.playing = False
                        session.notes.append(f"training stopped: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
                    self.publish()
            now = time.monotonic()
            if now - last_sweep > 5.0:
                last_sweep = now
                self._sweep(now)
        for session in list(self.sessions.values()):
            try:
                session.close()
            except Exception:  # noqa: BLE001
                pass
        self.sessions.clear()

    def _playing(self):
        with self._lock:
            return [s for s in self.sessions.values() if s.playing]

    def _sweep(self, now):
        with self._lock:
            for session_id, session in list(self.sessions.items()):
                idle = now - session.last_seen
                if session.playing and idle > STALE_S:
                    session.playing = False
                    session.notes.append(f"paused: the page asked for no frame for {STALE_S:.0f} s")
                if idle > DROP_S:
                    self.sessions.pop(session_id)
                    session.playing = False
                    try:
                        session.close()
                    except Exception:  # noqa: BLE001
                        pass
