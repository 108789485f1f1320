"""A distribution's CustomErrorResponses, set with boto3's CloudFront client and applied by
`strato serve`'s edge in front of a real origin: how long errors are kept (ErrorCachingMinTTL,
CloudFront's 10 s when no rule names the status, the origin's own lifetime when longer) and
the pages that replace them, under their ResponseCode."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.e2e.edge_sites import wait_until_served
from tests.e2e.test_edge_viewer_protocol import ask
from tests.e2e.test_serve_edge import http_origin, metric
from tests.edge.origin import Origin, Route
from tests.servers import StratoServer

NOT_FOUND_PAGE = b"<h1>Nothing here, but a friendly page.</h1>"
ERROR_RESPONSES: list[dict[str, Any]] = [
    {"ErrorCode": 404, "ResponsePagePath": "/errors/404.html", "ResponseCode": "200", "ErrorCachingMinTTL": 30},
    {"ErrorCode": 403, "ResponsePagePath": "/errors/403.html", "ResponseCode": "404"},
    {"ErrorCode": 500, "ResponsePagePath": "/errors/missing.html", "ResponseCode": "200"},
    {"ErrorCode": 503, "ErrorCachingMinTTL": 0},
]


def behaviour(**extra: Any) -> dict[str, Any]:
    return {"TargetOriginId": "web", "ViewerProtocolPolicy": "allow-all", "MinTTL": 0, "DefaultTTL": 60,
            "MaxTTL": 3600, "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}}, **extra}


def distribution_config(origin_url: str, alias: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [alias]},
        "Origins": {"Quantity": 1, "Items": [http_origin(origin_url)]},
        "DefaultCacheBehavior": behaviour(),
        "CustomErrorResponses": {"Quantity": len(errors), "Items": errors},
    }


@dataclass
class Site:
    server: StratoServer
    alias: str
    origin: Origin
    distribution_id: str

    def get(self, path: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
        return ask(self.server.edge_url, method, path, self.alias,
                   {name.replace("_", "-"): value for name, value in headers.items()})

    def fetches(self, path: str) -> int:
        return sum(1 for seen in self.origin.seen if seen.path.split("?")[0] == path)


@pytest.fixture(scope="module")
def site(server: StratoServer, cloudfront: Any) -> Iterator[Site]:
    origin = Origin()
    origin.routes["/errors/404.html"] = Route(200, {"Cache-Control": "max-age=300", "Content-Type": "text/html"},
                                              NOT_FOUND_PAGE)
    origin.routes["/errors/403.html"] = Route(200, {"Cache-Control": "max-age=300"}, b"not for you")
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    created = cloudfront.create_distribution(DistributionConfig=distribution_config(origin.url, alias, ERROR_RESPONSES))
    running = Site(server, alias, origin, created["Distribution"]["Id"])
    wait_until_served(origin, running.get)
    yield running
    origin.close()


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Path]]:
    """The site on a strato whose edge writes an access log."""
    data: Path = tmp_path_factory.mktemp("logged")
    log = data / "access.log"
    server = StratoServer(data / "data", env={"STRATO_EDGE_ACCESS_LOG": str(log)}).start()
    origin = Origin()
    origin.routes["/errors/404.html"] = Route(200, {"Cache-Control": "max-age=300"}, NOT_FOUND_PAGE)
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    created = make_client(server.url, "cloudfront").create_distribution(
        DistributionConfig=distribution_config(origin.url, alias, ERROR_RESPONSES))
    running = Site(server, alias, origin, created["Distribution"]["Id"])
    wait_until_served(origin, running.get)
    yield running, log
    origin.close()
    server.stop()


def ttl_of(headers: dict[str, str]) -> int:
    found = re.search(r"ttl=(-?\d+)", headers.get("cache-status", ""))
    assert found is not None, headers
    return int(found.group(1))


class TestErrorPages:
    def test_a_missing_object_is_answered_with_the_page_under_the_response_code(self, site: Site) -> None:
        status, headers, body = site.get("/no/such/thing")
        assert (status, body) == (200, NOT_FOUND_PAGE)
        assert headers["content-type"] == "text/html"
        assert site.fetches("/no/such/thing") == 1
        assert site.fetches("/errors/404.html") == 1

    def test_the_error_is_kept_for_its_error_caching_min_ttl_and_still_answered_with_the_page(
        self, site: Site,
    ) -> None:
        for _ in range(3):
            assert site.get("/gone-missing")[:3:2] == (200, NOT_FOUND_PAGE)
        assert site.fetches("/gone-missing") == 1  # the 404 is kept (30 s), and the page is cached by its own rules
        assert site.fetches("/errors/404.html") <= 1

    def test_a_page_can_answer_under_another_error_code(self, site: Site) -> None:
        site.origin.routes["/private"] = Route(403, {}, b"AccessDenied")
        assert site.get("/private")[:3:2] == (404, b"not for you")

    def test_a_head_gets_the_pages_head_under_the_response_code(self, site: Site) -> None:
        status, headers, body = site.get("/headless", method="HEAD")
        assert (status, body) == (200, b"")
        assert headers["content-length"] == str(len(NOT_FOUND_PAGE))

    def test_a_conditional_or_ranged_request_still_gets_the_whole_page(self, site: Site) -> None:
        status, _, body = site.get("/also-missing", If_None_Match='"abc"', Range="bytes=0-3")
        assert (status, body) == (200, NOT_FOUND_PAGE)

    def test_a_page_the_origin_does_not_have_leaves_the_viewer_with_the_answer_for_the_page(self, site: Site) -> None:
        site.origin.routes["/crash"] = Route(500, {}, b"stack trace")
        status, _, body = site.get("/crash")
        assert (status, body) == (404, b"no such route")  # as CloudFront: the page's own 404, not the 500
        assert site.fetches("/errors/missing.html") == 1

    def test_a_replaced_error_is_logged_and_counted_once_as_what_the_viewer_got(
        self, logged: tuple[Site, Path],
    ) -> None:
        site, log = logged
        served = metric(site.server, "strato_edge_distribution_bytes_served_total", site.distribution_id)
        for _ in range(2):  # a miss, then the kept 404 and the cached page
            assert site.get("/lost/page")[:3:2] == (200, NOT_FOUND_PAGE)
        deadline = time.monotonic() + 10  # a line is written once its answer has left
        while log.read_text().count("/lost/page") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        lines = [line for line in log.read_text().splitlines() if "/errors/" in line or "/lost/" in line]
        assert len(lines) == 2  # none for the page, asked of the origin or the cache for the viewer
        assert all(f'"GET /lost/page" 200 {len(NOT_FOUND_PAGE)} ' in line for line in lines), lines
        assert metric(site.server, "strato_edge_distribution_bytes_served_total",
                      site.distribution_id) - served == 2 * len(NOT_FOUND_PAGE)

    def test_errors_without_a_page_reach_the_viewer_as_the_origin_sent_them(self, site: Site) -> None:
        site.origin.routes["/teapot"] = Route(502, {}, b"bad gateway upstream")
        assert site.get("/teapot")[:3:2] == (502, b"bad gateway upstream")


class TestErrorCaching:
    def test_an_error_no_rule_names_is_kept_ten_seconds(self, site: Site) -> None:
        site.origin.routes["/upstream-down"] = Route(502, {}, b"bad gateway")
        assert site.get("/upstream-down")[0] == 502
        status, headers, _ = site.get("/upstream-down")
        assert status == 502
        assert "hit" in headers["cache-status"]
        assert 0 <= ttl_of(headers) <= 10
        assert site.fetches("/upstream-down") == 1

    def test_an_error_caching_min_ttl_of_zero_keeps_nothing(self, site: Site) -> None:
        site.origin.routes["/busy"] = Route(503, {}, b"busy")
        assert [site.get("/busy")[0] for _ in range(2)] == [503, 503]
        assert site.fetches("/busy") == 2

    def test_a_longer_lifetime_from_the_origin_wins_over_the_minimum(self, site: Site) -> None:
        site.origin.routes["/slow"] = Route(504, {"Cache-Control": "max-age=120"}, b"timeout")
        site.get("/slow")
        status, headers, _ = site.get("/slow")
        assert status == 504
        assert ttl_of(headers) > 10
        assert site.fetches("/slow") == 1

    def test_no_store_keeps_a_410_out_but_not_a_502(self, site: Site) -> None:
        site.origin.routes["/removed"] = Route(410, {"Cache-Control": "no-store"}, b"gone")
        site.origin.routes["/broken"] = Route(502, {"Cache-Control": "no-store"}, b"broken")
        for _ in range(2):
            site.get("/removed")
            site.get("/broken")
        assert (site.fetches("/removed"), site.fetches("/broken")) == (2, 1)

    def test_some_client_errors_are_kept_only_when_the_origin_gives_a_max_age(self, site: Site) -> None:
        site.origin.routes["/bad"] = Route(400, {}, b"bad request")
        site.origin.routes["/bad-for-a-while"] = Route(400, {"Cache-Control": "max-age=60"}, b"bad request")
        for _ in range(2):
            assert site.get("/bad")[0] == 400
            assert site.get("/bad-for-a-while")[0] == 400
        assert (site.fetches("/bad"), site.fetches("/bad-for-a-while")) == (2, 1)


class TestApi:
    def test_the_rules_read_back_as_sent(self, site: Site, cloudfront: Any) -> None:
        config = cloudfront.get_distribution_config(Id=site.distribution_id)["DistributionConfig"]
        assert config["CustomErrorResponses"] == {"Quantity": len(ERROR_RESPONSES), "Items": ERROR_RESPONSES}
        [summary] = [item for item in cloudfront.list_distributions()["DistributionList"]["Items"]
                     if item["Id"] == site.distribution_id]
        assert summary["CustomErrorResponses"]["Quantity"] == len(ERROR_RESPONSES)

    @pytest.mark.parametrize(("rule", "code"), [
        ({"ErrorCode": 418}, "InvalidErrorCode"),
        ({"ErrorCode": 404, "ResponsePagePath": "/404.html", "ResponseCode": "302"}, "InvalidResponseCode"),
        ({"ErrorCode": 404, "ResponsePagePath": "404.html", "ResponseCode": "200"}, "InvalidRelativePath"),
        ({"ErrorCode": 404, "ResponseCode": "200"}, "InvalidArgument"),
    ])
    def test_rules_cloudfront_refuses_are_refused_with_its_error(self, cloudfront: Any, rule: dict[str, Any],
                                                                 code: str) -> None:
        config = distribution_config("http://127.0.0.1:9", f"{uuid.uuid4().hex[:12]}.example.com", [rule])
        with pytest.raises(ClientError) as refused:
            cloudfront.create_distribution(DistributionConfig=config)
        assert refused.value.response["Error"]["Code"] == code
