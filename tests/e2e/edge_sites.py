"""A distribution on strato's edge as the edge's end-to-end tests drive it: the viewer's
requests by its alias, and what its origin saw."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.e2e.web import get
from tests.edge.origin import Origin, Route, Seen
from tests.servers import StratoServer


def managed(path: str, cache_policy: str, **extra: Any) -> dict[str, Any]:
    """A cache behaviour naming a managed cache policy (and any other fields)."""
    return {"PathPattern": path, "TargetOriginId": "web", "ViewerProtocolPolicy": "allow-all",
            "CachePolicyId": cache_policy, **extra}


def wait_until_served(origin: Origin, get: Callable[[str], tuple[int, dict[str, str], bytes]]) -> None:
    """Until the edge answers `get("/ready")` from `origin` (it reloads distributions each second)."""
    origin.routes["/ready"] = Route(200, {"Cache-Control": "no-store"}, b"ready")
    deadline = time.monotonic() + 10
    while get("/ready")[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.1)


@dataclass
class Site:
    server: StratoServer
    alias: str
    origin: Origin

    def get(self, path: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
        return get(f"{self.server.edge_url}{path}", host=self.alias, method=method,
                   headers={name.replace("_", "-"): value for name, value in headers.items()})

    def kept_alive(self, *requests: tuple[str, dict[str, str]]) -> list[tuple[int, dict[str, str]]]:
        """Status and lower-cased fields of each request, sent in turn on one connection."""
        connection = http.client.HTTPConnection(self.server.edge_url.removeprefix("http://"), timeout=30)
        answers = []
        try:
            for path, headers in requests:
                connection.request("GET", path, headers={"Host": self.alias, **headers})
                answer = connection.getresponse()
                answer.read()
                answers.append((answer.status, {name.lower(): value for name, value in answer.getheaders()}))
        finally:
            connection.close()
        return answers

    def seen(self, path: str) -> list[Seen]:
        return [seen for seen in self.origin.seen if seen.path.split("?")[0] == path]
