"""A real threaded HTTP server on 127.0.0.1 for tests and benchmarks (no mocked httpx).

    with LocalServer() as server:
        server.route("/a.zip", Reply(body=zip_bytes))
        server.route("/flaky.zip", Reply(status=500), Reply(body=zip_bytes))  # 500, then ok
        server.route("/slow.zip", Reply(body=b"x", delay=HOLD))  # answers only at stop()
        server.route("/reset.zip", Reply(action=reset_connection))
        url = server.url("/a.zip")
        assert server.count("/flaky.zip") == 2

A route holds a sequence of replies served in order; the last one repeats. Every request is
logged (method, path) in ``server.requests``. Waits (``delay``, `drip` pauses, `gate`s) end
early when the server stops, so a reply that must never arrive in time is ``delay=HOLD``
(no race with a client's timeout, however loaded the machine) and costs nothing at teardown. Use the ``http_server`` fixture from a
conftest (``from support.http_server import http_server  # noqa: F401``) or the class itself.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

Action = Callable[[BaseHTTPRequestHandler], None]

# A delay no client timeout in a test comes near: the reply is held until the server stops.
HOLD = 600.0


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (ends early at stop())
    action: Action | None = None  # takes over the whole answer (e.g. reset_connection)
    gate: threading.Event | None = None  # answer only once this is set (or at stop())


def stopping(handler: BaseHTTPRequestHandler) -> threading.Event:
    """Set when the handler's server stops: every wait of a handler ends then."""
    return handler.server.stopping  # type: ignore[attr-defined]


def reset_connection(handler: BaseHTTPRequestHandler) -> None:
    """Close the socket abruptly (RST, not FIN) without answering."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


def drip(body: bytes, pause: float) -> Action:
    """Send headers, then the body a byte at a time with pauses (a stalled server)."""

    def act(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            for i in range(len(body)):
                handler.wfile.write(body[i : i + 1])
                handler.wfile.flush()
                if stopping(handler).wait(pause):
                    handler.close_connection = True  # the server stops: the body stays cut
                    return
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client gave up, as it should

    return act


class _QuietServer(ThreadingHTTPServer):
    stopping: threading.Event

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client killed mid-answer
            super().handle_error(request, client_address)


class LocalServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.served: dict[str, int] = {}
        self.requests: list[tuple[str, str]] = []
        self.headers: list[dict[str, str]] = []  # request headers, in the order of requests
        self.in_flight = 0  # requests being answered now
        self.max_in_flight = 0  # the most answered at once (a client's concurrency, seen here)
        self._lock = threading.Lock()
        self._crowd = 0  # see hold_until_in_flight
        self._crowd_met = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # ---- routes and log ----------------------------------------------------------------
    def route(self, path: str, *replies: Reply | bytes) -> str:
        """Serve ``replies`` in order at ``path`` (bytes mean a 200 with that body); its URL."""
        if not replies:
            raise ValueError("a route needs at least one reply")
        with self._lock:
            self.routes[path] = [r if isinstance(r, Reply) else Reply(body=r) for r in replies]
            self.served[path] = 0
        return self.url(path)

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def count(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for _, p in self.requests if path is None or p == path)

    def hold_until_in_flight(self, n: int, timeout: float = 30.0) -> None:
        """Hold every request until ``n`` are being answered at once (then never again), or
        ``timeout`` passed: a client that keeps ``n`` requests going shows ``max_in_flight ==
        n`` however slowly the machine lets it send them."""
        with self._lock:
            self._crowd, self._crowd_timeout = n, timeout
            self._crowd_met.clear()

    def _arrived(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            crowd = self._crowd
            if crowd and self.in_flight >= crowd:
                self._crowd = 0
                self._crowd_met.set()
        if crowd and not self._crowd_met.is_set():
            self._crowd_met.wait(self._crowd_timeout)

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.headers.clear()

    def _next_reply(self, path: str, headers: dict[str, str] | None = None) -> Reply | None:
        with self._lock:
            self.requests.append(("GET", path))
            self.headers.append(headers or {})
            replies = self.routes.get(path)
            if replies is None:
                return None
            n = self.served[path]
            self.served[path] = n + 1
            return replies[min(n, len(replies) - 1)]

    # ---- server ------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like real servers
            # Headers and body go out in two writes; with Nagle on, the second waits for a
            # delayed ACK (~40 ms) and every request would look slow.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                server._arrived()
                try:
                    self._get()
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _get(self) -> None:
                path = self.path.split("?", 1)[0]
                reply = server._next_reply(path, {k.lower(): v for k, v in self.headers.items()})
                if reply is None:
                    reply = Reply(status=404, body=b"not found")
                ending = server._server.stopping
                if reply.gate is not None:
                    while not (reply.gate.wait(0.05) or ending.is_set()):
                        pass
                if reply.delay:
                    ending.wait(reply.delay)
                if reply.action is not None:
                    reply.action(self)
                    return
                try:
                    self.send_response(reply.status, HTTPStatus(reply.status).phrase)
                except ValueError:
                    self.send_response(reply.status)
                headers = {"Content-Length": str(len(reply.body)), **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (e.g. its timeout)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean; the request log is server.requests

        return Handler

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()  # held and delayed replies go out now (to closed sockets)
        self._crowd_met.set()
        if self._thread.is_alive():  # shutdown() would wait forever on a server never started
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    """A started LocalServer, stopped after the test."""
    with LocalServer() as server:
        yield server
