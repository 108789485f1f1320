"""A real HTTP origin for edge tests: routes set by the test, every request it receives
logged, responses optionally held back until the test releases them."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    peer: int = 0  # the edge's port: one per connection


@dataclass
class Route:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    gate: threading.Event | None = None
    answer: Callable[[Seen], tuple[int, dict[str, str], bytes]] | None = None
    # A large body made on the fly: (its length, a function yielding its chunks).
    stream: tuple[int, Callable[[], Iterator[bytes]]] | None = None
    # The head and the body in one write (as nginx sends a small file), so that the edge reads
    # them together; otherwise the body follows the head in a write of its own.
    together: bool = False
    cookies: tuple[str, ...] = ()  # Set-Cookie lines, one field each
    # The body sent chunked, without a Content-Length (an origin that does not know it ahead).
    chunked: bool = False
    # No Date field (an origin without a clock), nor Server.
    undated: bool = False


class Origin:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.down = False
        self.seen: list[Seen] = []
        self.arrived = threading.Condition()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                            self.rfile.read(length) if length else b"", self.client_address[1])
                with origin.arrived:
                    origin.seen.append(seen)
                    origin.arrived.notify_all()
                if origin.down:  # hang up without an answer, as a dead or overloaded origin does
                    self.close_connection = True
                    return
                route = origin.routes.get(self.path.split("?", 1)[0], Route(404, {}, b"no such route"))
                if route.gate is not None:
                    route.gate.wait(30)
                if route.answer is not None:
                    status, headers, body = route.answer(seen)
                else:
                    status, headers, body = route.status, route.headers, route.body
                if route.undated:
                    self.send_response_only(status)
                else:
                    self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                for cookie in route.cookies:
                    self.send_header("Set-Cookie", cookie)
                if status not in (204, 304) and route.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                elif status not in (204, 304):
                    self.send_header("Content-Length", str(route.stream[0] if route.stream else len(body)))
                socket_file = self.wfile
                if route.together:
                    self.wfile = io.BytesIO()
                self.end_headers()
                if self.command != "HEAD" and status not in (204, 304):
                    for chunk in route.stream[1]() if route.stream else [body]:
                        if route.chunked and chunk:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        elif not route.chunked:
                            self.wfile.write(chunk)
                    if route.chunked:
                        self.wfile.write(b"0\r\n\r\n")
                if self.wfile is not socket_file:
                    assert isinstance(self.wfile, io.BytesIO)
                    socket_file.write(self.wfile.getvalue())
                    self.wfile = socket_file

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def count(self, path: str, method: str | None = None) -> int:
        with self.arrived:
            return sum(1 for s in self.seen if s.path == path and (method is None or s.method == method))

    def last(self, path: str) -> Seen:
        with self.arrived:
            return [s for s in self.seen if s.path == path][-1]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
