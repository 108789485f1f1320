"""Raw HTTP/1.1 on one keep-alive connection to the edge: requests written as bytes, answers
parsed in order, so that tests see exactly what the edge's protocol writes."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from tests.edge.conftest import StratoEdge


class Connection:
    """One keep-alive connection: raw requests out, parsed responses in, in order."""

    def __init__(self, edge: StratoEdge) -> None:
        self.sock = socket.create_connection(("127.0.0.1", urlsplit(edge.url).port or 0), timeout=30)
        self.rfile = self.sock.makefile("rb")

    def send(self, raw: bytes) -> None:
        self.sock.sendall(raw)

    def get(self, path: str, *fields: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        self.send(request(path, *fields, method=method))
        return self.response(head=method == "HEAD")

    def response(self, head: bool = False) -> tuple[int, dict[str, str], bytes]:
        status_line = self.rfile.readline()
        assert status_line.startswith(b"HTTP/1.1 "), status_line
        headers: dict[str, str] = {}
        while (line := self.rfile.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if head else int(headers.get("content-length", "0"))
        return int(status_line.split()[1]), headers, self.rfile.read(length)

    def close(self) -> None:
        self.rfile.close()
        self.sock.close()


def request(path: str, *fields: str, method: str = "GET", body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: edge.test", *fields]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
