"""CloudFront origin groups (origin failover) through boto3 and the edge of a real strato server:
a behaviour targeting a group is answered by the primary origin, and by the secondary when the
primary answers a failover status, cannot be reached or hangs up."""

from __future__ import annotations

import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.client_errors import error_of
from tests.e2e.test_serve_edge import behavior, http_origin
from tests.e2e.web import get
from tests.edge.origin import Origin, Route
from tests.servers import StratoServer


@pytest.fixture
def primary() -> Iterator[Origin]:
    running = Origin()
    yield running
    running.close()


@pytest.fixture
def secondary() -> Iterator[Origin]:
    running = Origin()
    yield running
    running.close()


def group(group_id: str = "both", members: tuple[str, str] = ("first", "second"),
          statuses: tuple[int, ...] = (500, 502, 503, 504, 404)) -> dict[str, Any]:
    return {"Id": group_id,
            "FailoverCriteria": {"StatusCodes": {"Quantity": len(statuses), "Items": list(statuses)}},
            "Members": {"Quantity": len(members), "Items": [{"OriginId": member} for member in members]}}


def grouped(server: StratoServer, cloudfront: Any, primary_url: str, secondary_url: str,
            read_timeout: int | None = None, **default: Any) -> tuple[str, str]:
    """A distribution whose default behaviour (with `default`'s fields) targets a group of the
    two origins (the primary's OriginReadTimeout `read_timeout`): its alias, once the edge
    serves it, and its id."""
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    first = http_origin(primary_url, "first")
    if read_timeout is not None:
        first["CustomOriginConfig"]["OriginReadTimeout"] = read_timeout
    created = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [alias]},
        "Origins": {"Quantity": 2, "Items": [first, http_origin(secondary_url, "second")]},
        "OriginGroups": {"Quantity": 1, "Items": [group()]},
        "DefaultCacheBehavior": {**behavior("both"), **default},
    })
    return reaching(server, alias), created["Distribution"]["Id"]


def answered(server: StratoServer, alias: str, path: str) -> tuple[int, dict[str, str], bytes]:
    return get(f"{server.edge_url}{path}", host=alias)


def reaching(server: StratoServer, alias: str) -> str:
    """`alias`, once the edge has read its distribution (it reloads each second): a path no
    origin has reaches one, which says so."""
    deadline = time.monotonic() + 10
    while answered(server, alias, "/_ready")[2] != b"no such route" and time.monotonic() < deadline:
        time.sleep(0.1)
    return alias


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_group_round_trips_and_answers_from_the_primary(
    server: StratoServer, cloudfront: Any, primary: Origin, secondary: Origin
) -> None:
    primary.routes["/page"] = Route(200, {"Cache-Control": "no-store"}, b"primary")
    secondary.routes["/page"] = Route(200, {"Cache-Control": "no-store"}, b"secondary")
    alias, distribution_id = grouped(server, cloudfront, primary.url, secondary.url)
    config = cloudfront.get_distribution_config(Id=distribution_id)["DistributionConfig"]
    assert config["OriginGroups"] == {"Quantity": 1, "Items": [group()]}
    status, _, body = answered(server, alias, "/page")
    assert (status, body) == (200, b"primary")
    assert secondary.count("/page") == 0


def test_a_failover_status_sends_the_request_to_the_secondary_every_time(
    server: StratoServer, cloudfront: Any, primary: Origin, secondary: Origin
) -> None:
    primary.routes["/page"] = Route(503, {"Cache-Control": "no-store"}, b"overloaded")
    primary.routes["/teapot"] = Route(418, {"Cache-Control": "no-store"}, b"short and stout")
    secondary.routes["/page"] = Route(200, {"Cache-Control": "no-store"}, b"from the secondary")
    secondary.routes["/teapot"] = Route(200, {}, b"never asked")
    alias, _ = grouped(server, cloudfront, primary.url, secondary.url)
    for _ in range(2):
        status, _, body = answered(server, alias, "/page")
        assert (status, body) == (200, b"from the secondary")
    assert primary.count("/page") == 2  # every request tries the primary first
    assert secondary.count("/page") == 2
    assert answered(server, alias, "/teapot")[:3:2] == (418, b"short and stout")  # not a failover status
    assert secondary.count("/teapot") == 0


def test_an_unreachable_or_hanging_up_primary_fails_over(
    server: StratoServer, cloudfront: Any, primary: Origin, secondary: Origin
) -> None:
    secondary.routes["/page"] = Route(200, {"Cache-Control": "no-store"}, b"still here")
    alias, _ = grouped(server, cloudfront, f"http://127.0.0.1:{closed_port()}", secondary.url)
    assert answered(server, alias, "/page")[:3:2] == (200, b"still here")
    primary.down = True  # accepts, reads the request, hangs up without an answer
    alias, _ = grouped(server, cloudfront, primary.url, secondary.url)
    assert answered(server, alias, "/page")[:3:2] == (200, b"still here")
    assert primary.count("/page") >= 1


def test_a_primary_slower_than_its_read_timeout_fails_over(
    server: StratoServer, cloudfront: Any, primary: Origin, secondary: Origin
) -> None:
    """The primary's own OriginReadTimeout (1 s here; strato's default would be 30 s, as long as
    this client waits) decides when it is given up."""
    gate = threading.Event()
    primary.routes["/slow"] = Route(200, {"Cache-Control": "no-store"}, b"too late", gate=gate)
    secondary.routes["/slow"] = Route(200, {"Cache-Control": "no-store"}, b"in time")
    alias, _ = grouped(server, cloudfront, primary.url, secondary.url, read_timeout=1)
    try:
        assert answered(server, alias, "/slow")[:3:2] == (200, b"in time")
    finally:
        gate.set()


def test_the_secondarys_answer_is_cached_like_any_other(
    server: StratoServer, cloudfront: Any, primary: Origin, secondary: Origin
) -> None:
    primary.routes["/logo.png"] = Route(404, {}, b"lost")
    secondary.routes["/logo.png"] = Route(200, {"Cache-Control": "max-age=300"}, b"PNG")
    alias, _ = grouped(server, cloudfront, primary.url, secondary.url)
    assert answered(server, alias, "/logo.png")[:3:2] == (200, b"PNG")
    status, headers, body = answered(server, alias, "/logo.png")
    assert (status, body) == (200, b"PNG")
    assert "hit" in headers["cache-status"]
    assert (primary.count("/logo.png"), secondary.count("/logo.png")) == (1, 1)


def test_other_methods_go_to_the_primary_only(
    server: StratoServer, cloudfront: Any, primary: Origin, secondary: Origin
) -> None:
    """A behaviour targeting a group allows GET, HEAD and OPTIONS at most; OPTIONS fails over
    as they do."""
    primary.routes["/cors"] = Route(503, {}, b"")
    secondary.routes["/cors"] = Route(204, {"Access-Control-Allow-Origin": "*"}, b"")
    methods = ["GET", "HEAD", "OPTIONS"]
    alias, _ = grouped(server, cloudfront, primary.url, secondary.url,
                       AllowedMethods={"Quantity": 3, "Items": methods,
                                       "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}})
    status, headers, _ = get(f"{server.edge_url}/cors", host=alias, method="OPTIONS")
    assert (status, headers.get("access-control-allow-origin")) == (204, "*")


def test_bad_groups_are_refused_with_cloudfronts_errors(cloudfront: Any) -> None:
    origins = [http_origin("http://127.0.0.1:9", "first"), http_origin("http://127.0.0.1:9", "second")]
    cases: list[tuple[dict[str, Any], dict[str, Any], tuple[str, int]]] = [
        (group(members=("first", "first")), {}, ("InvalidArgument", 400)),
        (group(members=("first", "third")), {}, ("NoSuchOrigin", 404)),
        (group(group_id="first"), {}, ("InvalidArgument", 400)),
        (group(statuses=(418,)), {}, ("InvalidArgument", 400)),
        (group(statuses=(503, 503)), {}, ("InvalidArgument", 400)),
        (group(), {"AllowedMethods": {"Quantity": 7, "Items": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST",
                                                               "DELETE"]}}, ("InvalidArgument", 400)),
    ]
    for sent, default, error in cases:
        with pytest.raises(ClientError) as refused:
            cloudfront.create_distribution(DistributionConfig={
                "CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True,
                "Origins": {"Quantity": 2, "Items": origins},
                "OriginGroups": {"Quantity": 1, "Items": [sent]},
                "DefaultCacheBehavior": {**behavior("both"), **default},
            })
        assert error_of(refused) == error, sent


def test_a_status_code_of_thousands_of_digits_is_no_status(cloudfront: Any) -> None:
    """Too long for int() to read by default: refused as any other code no group may name."""
    origins = [http_origin("http://127.0.0.1:9", "first"), http_origin("http://127.0.0.1:9", "second")]
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # for boto3 to write it
    try:
        with pytest.raises(ClientError) as refused:
            cloudfront.create_distribution(DistributionConfig={
                "CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True,
                "Origins": {"Quantity": 2, "Items": origins},
                "OriginGroups": {"Quantity": 1, "Items": [group(statuses=(10 ** 5000,))]},
                "DefaultCacheBehavior": behavior("both"),
            })
    finally:
        sys.set_int_max_str_digits(limit)
    assert error_of(refused) == ("InvalidArgument", 400)
