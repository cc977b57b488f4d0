"""Fixtures for services: PostgreSQL databases, Redis frontiers and a local HTTP server on real sockets.

PostgreSQL and Redis tests skip when the server is absent, unless CAIXUN_REQUIRE_SERVICES=1
(set by .ci/run), in which case they fail (tests.helpers.unavailable: the same rule
for the shared benchmark data). CAIXUN_TEST_POSTGRES_URL points at
the server (default postgresql://postgres@127.0.0.1:5432/test), CAIXUN_TEST_REDIS_URL at Redis
(default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import inspect
import os
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import unavailable as _unavailable

POSTGRES_ADMIN_URL = os.environ.get("CAIXUN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CAIXUN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A fresh, empty database: a SQLite file (store.db), then a PostgreSQL database (postgres_url)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")


def _fresh_postgres_database() -> Iterator[str]:
    import psycopg

    name = f"caixun_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        _unavailable(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}".strip())
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
            yield f"{base}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_database_url(request, tmp_path_factory) -> str:
    """database_url shared by the tests of one module (a store filled once, read by many tests)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.db'}"
    return request.getfixturevalue("module_postgres_url")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    yield from _fresh_postgres_database()


@pytest.fixture(scope="module")
def module_postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for the tests of one module, dropped afterwards."""
    yield from _fresh_postgres_database()


@dataclass(frozen=True)
class Frontier:
    """A Redis frontier of one test: the server's URL and a key prefix no other test (or user) has."""

    url: str
    key: str  # CAIXUN_FRONTIER_KEY

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)


@pytest.fixture
def frontier() -> Iterator[Frontier]:
    """A fresh frontier on the Redis at CAIXUN_TEST_REDIS_URL (skipped when absent, unless required);
    its keys are deleted afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        _unavailable(f"Redis not reachable at {REDIS_URL}: {exc}")
    key = f"caixun-test-{uuid.uuid4().hex[:12]}:news"
    yield Frontier(REDIS_URL, key)
    keys = list(client.scan_iter(f"{key}:*"))
    if keys:
        client.delete(*keys)


@dataclass(frozen=True)
class Received:
    """One request as the LocalServer saw it."""

    path: str  # as sent: "/x" directly, "http://host/x" when the server is used as a proxy
    headers: dict[str, str]  # names as sent
    at: float = 0.0  # time.monotonic() when it arrived


# Special answers a respond function may return instead of (status, headers, body):


@dataclass(frozen=True)
class Drop:
    """Close the connection without answering; reset=True makes it a TCP reset (RST) rather than a FIN."""

    reset: bool = True


@dataclass(frozen=True)
class Delay:
    """Wait `seconds`, then give `then` (an answer, or another action)."""

    seconds: float
    then: object


@dataclass(frozen=True)
class Truncated:
    """Declare Content-Length of the whole body, send only its first `send` bytes, close."""

    status: int
    headers: dict
    body: bytes
    send: int


class _Server(ThreadingHTTPServer):
    # a crawl opens many connections at once: with the default backlog of 5, connects wait for
    # the kernel's 1-second SYN retransmission and trip short DOWNLOAD_TIMEOUTs
    request_queue_size = 128


def redirect(location: str, status: int = 301) -> tuple[int, dict, bytes]:
    return status, {"Location": location, "Content-Type": "text/html"}, b"<html><body>moved</body></html>"


class LocalServer:
    """Serves answers chosen per path by a handler function; records every request.

    respond(path) or respond(path, headers) gives (status, headers, body), or a Drop,
    Delay or Truncated action. Content-Length is added unless the headers give one; a header
    given as None is not sent (with "Content-Length": None the body ends when the connection closes).
    `requests` lists the paths in arrival order, `received` the paths with their headers.
    """

    def __init__(self, respond: Callable[..., object]) -> None:
        self.respond = respond
        self.received: list[Received] = []
        self._lock = threading.Lock()
        try:
            wants_headers = len(inspect.signature(respond).parameters) >= 2
        except (TypeError, ValueError):
            wants_headers = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                headers = dict(self.headers.items())
                with server._lock:
                    server.received.append(Received(self.path, headers, time.monotonic()))
                answer = server.respond(self.path, headers) if wants_headers else server.respond(self.path)
                try:
                    self._answer(answer)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up first (a timeout)
                    self.close_connection = True

            def _answer(self, answer) -> None:
                while isinstance(answer, Delay):
                    time.sleep(answer.seconds)
                    answer = answer.then
                if isinstance(answer, Drop):
                    self.close_connection = True
                    if answer.reset:
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()  # also what socketserver does next: closing twice is harmless
                    return
                if isinstance(answer, Truncated):
                    status, headers, body, send = answer.status, answer.headers, answer.body, answer.send
                else:
                    status, headers, body = answer
                    send = len(body)
                self.send_response(status)
                for key, value in headers.items():
                    if value is not None:  # None: leave the header out ("Content-Length": None sends none)
                        self.send_header(key, value)
                if not any(key.lower() == "content-length" for key in headers):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:send])
                if send < len(body):
                    self.wfile.flush()
                    self.close_connection = True

            def log_message(self, *args) -> None:
                pass

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def requests(self) -> list[str]:
        """The paths asked for, in arrival order."""
        return [r.path for r in self.received]

    def hits(self, path: str) -> int:
        """How many requests asked for this path."""
        return self.requests.count(path)

    def headers_for(self, path: str) -> list[dict[str, str]]:
        """The headers of every request for this path, in arrival order."""
        return [r.headers for r in self.received if r.path == path]

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def local_server() -> Callable[[Callable[..., object]], LocalServer]:
    servers: list[LocalServer] = []

    def start(respond):
        server = LocalServer(respond).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)
