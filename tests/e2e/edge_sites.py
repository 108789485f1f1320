"""A distribution on strato's edge as the edge's end-to-end tests drive it: the viewer's
requests by its alias, and what its origin saw."""

from __future__ import annotations

import http.client
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strato.cdn.cache_policies import CACHING_DISABLED
from tests.e2e.test_serve_edge import http_origin
from tests.e2e.web import get
from tests.edge.origin import Origin, Route, Seen
from tests.servers import StratoServer


def managed(path: str, cache_policy: str, **extra: Any) -> dict[str, Any]:
    """A cache behaviour naming a managed cache policy (and any other fields)."""
    return {"PathPattern": path, "TargetOriginId": "web", "ViewerProtocolPolicy": "allow-all",
            "CachePolicyId": cache_policy, **extra}


def open_site(server: StratoServer, cloudfront: Any, origin: Origin, behaviours: list[dict[str, Any]], *,
              origin_config: dict[str, Any] | None = None, default: dict[str, Any] | None = None) -> Site:
    """A new distribution by a new alias, once the edge serves it: its one origin `web` is `origin`
    over HTTP (or `origin_config`), with `behaviours` and a `default` behaviour (caching disabled)."""
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    cloudfront.create_distribution(DistributionConfig={
        "CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [alias]},
        "Origins": {"Quantity": 1, "Items": [origin_config or http_origin(origin.url)]},
        "DefaultCacheBehavior": default or {"TargetOriginId": "web", "ViewerProtocolPolicy": "allow-all",
                                            "CachePolicyId": CACHING_DISABLED},
        "CacheBehaviors": {"Quantity": len(behaviours), "Items": behaviours},
    })
    site = Site(server, alias, origin)
    wait_until_served(origin, site.get)
    return site


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
