"""A custom origin's connections from the edge of a real strato server, as its CloudFront
configuration sets them: an idle connection is used again within OriginKeepaliveTimeout and
closed after it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.test_edge_origin_groups import answered, reaching
from tests.e2e.test_serve_edge import behavior, http_origin
from tests.edge.origin import Origin, Route
from tests.servers import StratoServer


@pytest.fixture
def origin() -> Iterator[Origin]:
    running = Origin()
    running.routes["/page"] = Route(200, {"Cache-Control": "no-store"}, b"page")
    yield running
    running.close()


def distribution(server: StratoServer, cloudfront: Any, url: str, keepalive: int) -> str:
    """A distribution of the one origin with OriginKeepaliveTimeout `keepalive`: its alias."""
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    only = http_origin(url, "only")
    only["CustomOriginConfig"]["OriginKeepaliveTimeout"] = keepalive
    cloudfront.create_distribution(DistributionConfig={
        "CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [alias]},
        "Origins": {"Quantity": 1, "Items": [only]},
        "DefaultCacheBehavior": behavior("only"),
    })
    return reaching(server, alias)


def peers(origin: Origin) -> list[int]:
    return [seen.peer for seen in origin.seen if seen.path == "/page"]


def test_an_idle_connection_is_used_again_within_the_keepalive_timeout_and_closed_after_it(
    server: StratoServer, cloudfront: Any, origin: Origin
) -> None:
    alias = distribution(server, cloudfront, origin.url, keepalive=1)
    assert answered(server, alias, "/page")[::2] == (200, b"page")
    assert answered(server, alias, "/page")[::2] == (200, b"page")
    time.sleep(1.5)
    assert answered(server, alias, "/page")[::2] == (200, b"page")
    first, again, after = peers(origin)
    assert first == again, "one connection for requests within the timeout"
    assert after != first, "a new connection once the idle one was closed"
