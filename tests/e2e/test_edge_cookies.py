"""The cookies viewers get set through a distribution of a real strato server, as CloudFront
passes them on (DeveloperGuide/Cookies.html): none when the behaviour forwards no cookies to the
origin, the named ones when it names some, all when it forwards all; each in a line of its own."""

from __future__ import annotations

import http.client
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.test_edge_origin_groups import reaching
from tests.e2e.test_serve_edge import behavior, http_origin
from tests.edge.origin import Origin, Route
from tests.servers import StratoServer

COOKIES = ("session=abc; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT; HttpOnly", "theme=dark; Path=/")


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    running = Origin()
    for path, cache in (("/stored", "max-age=60"), ("/passed", "no-store")):
        running.routes[path] = Route(200, {"Cache-Control": cache}, b"page", cookies=COOKIES)
    yield running
    running.close()


def set_cookies(server: StratoServer, alias: str, path: str) -> list[str]:
    netloc = server.edge_url.removeprefix("http://")
    connection = http.client.HTTPConnection(netloc, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": alias, "Cookie": "session=abc; theme=dark"})
        response = connection.getresponse()
        response.read()
        return [value for name, value in response.getheaders() if name.lower() == "set-cookie"]
    finally:
        connection.close()


def distribution(server: StratoServer, cloudfront: Any, url: str, cookies: dict[str, Any]) -> str:
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    cloudfront.create_distribution(DistributionConfig={
        "CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [alias]},
        "Origins": {"Quantity": 1, "Items": [http_origin(url)]},
        "DefaultCacheBehavior": behavior("web", ForwardedValues={"QueryString": False, "Cookies": cookies}),
    })
    return reaching(server, alias)


@pytest.mark.parametrize(("cookies", "expected"), [
    ({"Forward": "none"}, []),
    ({"Forward": "whitelist", "WhitelistedNames": {"Quantity": 1, "Items": ["session"]}}, [COOKIES[0]]),
    ({"Forward": "all"}, list(COOKIES)),
], ids=["none", "whitelist", "all"])
def test_viewers_get_the_cookies_the_behaviour_forwards(
    server: StratoServer, cloudfront: Any, origin: Origin, cookies: dict[str, Any], expected: list[str]
) -> None:
    alias = distribution(server, cloudfront, origin.url, cookies)
    for path in ("/passed", "/stored", "/stored"):  # passed on; a miss stored; a hit
        assert set_cookies(server, alias, path) == expected, path
