"""A distribution's cache behaviour settings as `strato serve`'s edge applies them, set with
boto3's CloudFront client and seen from a real origin: ForwardedValues.Headers, CachedMethods,
Compress, an origin's CustomHeaders, the managed cache policies and custom ones."""

from __future__ import annotations

import gzip
import http.client
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from strato.cdn.cache_policies import CACHING_DISABLED, CACHING_OPTIMIZED
from tests.e2e.edge_sites import Site, managed, open_site
from tests.e2e.test_serve_edge import http_origin
from tests.e2e.web import get, public_read
from tests.edge.origin import Origin, Route, Seen
from tests.servers import StratoServer

TEXT = b"All happy families are alike; each unhappy family is unhappy in its own way. " * 40
GET_HEAD_OPTIONS = {"Quantity": 3, "Items": ["GET", "HEAD", "OPTIONS"]}


def legacy(path: str | None = None, headers: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    """A behaviour with the legacy cache settings, forwarding query strings and no cookies."""
    found: dict[str, Any] = {
        "TargetOriginId": "web", "ViewerProtocolPolicy": "allow-all", "MinTTL": 0, "DefaultTTL": 60,
        "MaxTTL": 3600, "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"},
                                            "Headers": {"Quantity": len(headers), "Items": list(headers)}},
        **extra}
    if path is not None:
        found["PathPattern"] = path
    return found


@pytest.fixture(scope="module")
def site(server: StratoServer, cloudfront: Any) -> Iterator[Site]:
    origin = Origin()
    web = {**http_origin(origin.url), "CustomHeaders": {"Quantity": 1, "Items": [
        {"HeaderName": "X-Origin-Secret", "HeaderValue": "s3cr3t"}]}}
    behaviours = [
        legacy("/every/*", ("*",)),
        legacy("/hosted/*", ("Host",)),
        legacy("/account/*", ForwardedValues={"QueryString": False, "Cookies": {
            "Forward": "whitelist", "WhitelistedNames": {"Quantity": 1, "Items": ["session"]}}}),
        legacy("/plain/*", AllowedMethods={**GET_HEAD_OPTIONS, "CachedMethods": {
            "Quantity": 2, "Items": ["GET", "HEAD"]}}),
        managed("/optimized/*", CACHING_OPTIMIZED, Compress=True),
        managed("/disabled/*", CACHING_DISABLED),
    ]
    running = open_site(server, cloudfront, origin, behaviours, origin_config=web, default=legacy(
        None, ("X-Tenant",), Compress=True, AllowedMethods={**GET_HEAD_OPTIONS, "CachedMethods": GET_HEAD_OPTIONS}))
    yield running
    origin.close()


def tenant(seen: Seen) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Cache-Control": "max-age=300"}, f"tenant={seen.headers.get('x-tenant')}".encode()


class TestForwardedHeaders:
    """ForwardedValues.Headers: the named fields go to the origin and split the cache."""

    def test_requests_differing_in_a_whitelisted_header_are_two_entries(self, site: Site) -> None:
        site.origin.routes["/tenant"] = Route(answer=tenant)
        assert site.get("/tenant", X_Tenant="blue")[2] == b"tenant=blue"
        assert site.get("/tenant", X_Tenant="red")[2] == b"tenant=red"
        status, headers, body = site.get("/tenant", X_Tenant="blue")
        assert (status, body) == (200, b"tenant=blue")
        assert "hit" in headers["cache-status"]
        assert [seen.headers["x-tenant"] for seen in site.seen("/tenant")] == ["blue", "red"]

    def test_requests_differing_in_another_header_share_one_entry(self, site: Site) -> None:
        site.origin.routes["/shared"] = Route(200, {"Cache-Control": "max-age=300", "Vary": "Accept-Language"},
                                              b"one for all")
        assert site.get("/shared", Accept_Language="fr", X_Trace="1")[2] == b"one for all"
        assert "hit" in site.get("/shared", Accept_Language="de", X_Trace="2")[1]["cache-status"]
        [seen] = site.seen("/shared")
        assert "accept-language" not in seen.headers  # CloudFront removes it unless it is in the key
        assert seen.headers["x-trace"] == "1"  # other-defined fields are forwarded, not keyed

    def test_a_forwarded_host_reaches_the_origin_as_the_viewer_sent_it(self, site: Site) -> None:
        for path in ("/hosted/page", "/plain/own-host"):
            site.origin.routes[path] = Route(200, {"Cache-Control": "no-store"}, b"ok")
            site.get(path)
        [hosted] = site.seen("/hosted/page")
        [plain] = site.seen("/plain/own-host")
        assert hosted.headers["host"] == site.alias
        assert plain.headers["host"] != site.alias  # the origin's own name, as CloudFront sends by default

    def test_the_origin_sees_cloudfronts_user_agent_and_no_referer(self, site: Site) -> None:
        site.origin.routes["/agent"] = Route(200, {"Cache-Control": "no-store"}, b"ok")
        site.get("/agent", User_Agent="curl/8.0", Referer="http://elsewhere.example/")
        [seen] = site.seen("/agent")
        assert seen.headers["user-agent"] == "Amazon CloudFront"
        assert "referer" not in seen.headers

    def test_a_star_forwards_every_header_and_caches_nothing(self, site: Site) -> None:
        site.origin.routes["/every/page"] = Route(200, {"Cache-Control": "max-age=300"}, b"fresh each time")
        for _ in range(2):
            status, headers, body = site.get("/every/page", Accept_Language="fr", User_Agent="curl/8.0")
            assert (status, body) == (200, b"fresh each time")
            assert "fwd=bypass" in headers["cache-status"]
        seen = site.seen("/every/page")
        assert len(seen) == 2
        assert (seen[0].headers["accept-language"], seen[0].headers["user-agent"]) == ("fr", "curl/8.0")


def test_hits_on_a_kept_alive_connection_follow_the_behaviour_too(site: Site) -> None:
    """Fresh hits on an idle keep-alive connection are answered by the edge's fast path."""
    site.origin.routes["/kept/tenant"] = Route(answer=tenant)
    site.origin.routes["/plain/kept.txt"] = Route(200, {"Cache-Control": "max-age=300",
                                                        "Content-Type": "text/plain"}, TEXT)
    connection = http.client.HTTPConnection(site.server.edge_url.removeprefix("http://"), timeout=30)
    try:
        answers = []
        for path, headers in [("/kept/tenant", {"X-Tenant": "blue"}), ("/kept/tenant", {"X-Tenant": "red"})] * 2 + [
                ("/plain/kept.txt", {"Accept-Encoding": "gzip"})] * 2:
            connection.request("GET", path, headers={"Host": site.alias, **headers})
            answer = connection.getresponse()
            answers.append((answer.read(), answer.getheader("content-encoding")))
    finally:
        connection.close()
    assert answers == [(b"tenant=blue", None), (b"tenant=red", None)] * 2 + [(TEXT, None)] * 2
    assert len(site.seen("/kept/tenant")) == 2


def greeting(seen: Seen) -> tuple[int, dict[str, str], bytes]:
    """A page made for whoever the session cookie names, which the origin lets caches keep."""
    return 200, {"Cache-Control": "max-age=300"}, f"hello {seen.headers.get('cookie')}".encode()


class TestForwardedCookies:
    """ForwardedValues.Cookies: the cookies forwarded are in the cache key, so one viewer's page is
    never another's."""

    def test_viewers_with_different_sessions_get_their_own_pages(self, site: Site) -> None:
        site.origin.routes["/account/home"] = Route(answer=greeting)
        assert site.get("/account/home", Cookie="session=alice")[2] == b"hello session=alice"
        assert site.get("/account/home", Cookie="session=bob")[2] == b"hello session=bob"
        status, headers, body = site.get("/account/home", Cookie="theme=dark; session=alice")
        assert (status, body) == (200, b"hello session=alice")
        assert "hit" in headers["cache-status"]  # cookies not forwarded are neither sent nor keyed
        assert [seen.headers["cookie"] for seen in site.seen("/account/home")] == ["session=alice", "session=bob"]


class TestCachedMethods:
    def test_options_answers_are_cached_when_cached_methods_include_options(self, site: Site) -> None:
        site.origin.routes["/cors"] = Route(200, {"Cache-Control": "max-age=300", "Allow": "GET, OPTIONS"}, b"")
        for _ in range(2):
            status, headers, _ = site.get("/cors", method="OPTIONS")
            assert (status, headers["allow"]) == (200, "GET, OPTIONS")
        assert [seen.method for seen in site.seen("/cors")] == ["OPTIONS"]
        assert "hit" in headers["cache-status"]

    def test_options_answers_go_to_the_origin_each_time_otherwise(self, site: Site) -> None:
        site.origin.routes["/plain/cors"] = Route(200, {"Cache-Control": "max-age=300"}, b"")
        site.origin.routes["/plain/page"] = Route(200, {"Cache-Control": "max-age=300"}, b"page")
        for _ in range(2):
            assert site.get("/plain/cors", method="OPTIONS")[0] == 200
            assert site.get("/plain/page")[2] == b"page"
        assert [seen.method for seen in site.seen("/plain/cors")] == ["OPTIONS", "OPTIONS"]
        assert len(site.seen("/plain/page")) == 1  # GET and HEAD are always cached


class TestCompress:
    def test_a_behaviour_with_compress_serves_gzip(self, site: Site) -> None:
        site.origin.routes["/book.txt"] = Route(200, {"Cache-Control": "max-age=300", "Content-Type": "text/plain"},
                                                TEXT)
        for _ in range(2):  # the miss and the hit
            status, headers, body = site.get("/book.txt", Accept_Encoding="gzip")
            assert (status, headers.get("content-encoding")) == (200, "gzip")
            assert gzip.decompress(body) == TEXT

    @pytest.mark.parametrize(("path", "accepted", "coding"), [
        ("/legacy.txt", "br, gzip", "gzip"), ("/optimized/book.txt", "zstd, gzip", "gzip"),
        ("/optimized/other.txt", "zstd, br, gzip", "br")])
    def test_only_the_codings_the_behaviour_enables_are_produced(self, site: Site, path: str, accepted: str,
                                                                 coding: str) -> None:
        """DeveloperGuide ServingCompressedFiles: CloudFront compresses with Gzip and Brotli (never
        zstd), Brotli only under a cache policy enabling it; legacy cache settings get Gzip alone."""
        site.origin.routes[path] = Route(200, {"Cache-Control": "max-age=300", "Content-Type": "text/plain"}, TEXT)
        for _ in range(2):  # the miss and the hit
            status, headers, _ = site.get(path, Accept_Encoding=accepted)
            assert (status, headers.get("content-encoding")) == (200, coding)

    def test_a_cache_policy_keys_on_the_normalized_accept_encoding(self, site: Site) -> None:
        """API_ParametersInCacheKeyAndForwardedToOrigin (EnableAcceptEncodingGzip/Brotli): the normalized
        Accept-Encoding is in the cache key, so an origin that compresses without a Vary never has
        its gzip answer served to a viewer that cannot read it."""
        def compressing(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            fields = {"Cache-Control": "max-age=300", "Content-Type": "text/plain"}
            if "gzip" in seen.headers.get("accept-encoding", ""):
                return 200, {**fields, "Content-Encoding": "gzip"}, gzip.compress(TEXT)
            return 200, fields, TEXT

        site.origin.routes["/optimized/own.txt"] = Route(answer=compressing)
        for _ in range(2):  # the misses and the hits
            status, headers, body = site.get("/optimized/own.txt", Accept_Encoding="gzip, deflate, br")
            assert (status, headers.get("content-encoding"), gzip.decompress(body)) == (200, "gzip", TEXT)
            status, headers, body = site.get("/optimized/own.txt")
            assert (status, headers.get("content-encoding"), body) == (200, None, TEXT)
        assert [seen.headers.get("accept-encoding") for seen in site.seen("/optimized/own.txt")] == ["br,gzip", None]

    def test_a_behaviour_without_compress_serves_the_body_as_the_origin_sent_it(self, site: Site) -> None:
        site.origin.routes["/plain/book.txt"] = Route(200, {"Cache-Control": "max-age=300",
                                                            "Content-Type": "text/plain"}, TEXT)
        for _ in range(2):
            status, headers, body = site.get("/plain/book.txt", Accept_Encoding="gzip, br")
            assert (status, body) == (200, TEXT)
            assert "content-encoding" not in headers

    def test_the_default_distribution_still_compresses(self, server: StratoServer, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="book.txt", Body=TEXT, ContentType="text/plain", CacheControl="max-age=60")
        public_read(s3, bucket)
        status, headers, body = get(f"{server.edge_url}/{bucket}/book.txt", headers={"Accept-Encoding": "gzip"})
        assert (status, headers.get("content-encoding")) == (200, "gzip")
        assert gzip.decompress(body) == TEXT


class TestOriginCustomHeaders:
    def test_an_origins_custom_headers_reach_it_in_place_of_the_viewers(self, site: Site) -> None:
        site.origin.routes["/secret"] = Route(200, {"Cache-Control": "no-store"}, b"ok")
        site.origin.routes["/disabled/secret"] = Route(200, {"Cache-Control": "no-store"}, b"ok")
        site.get("/secret", X_Origin_Secret="guess")
        site.get("/disabled/secret")
        assert [seen.headers["x-origin-secret"] for seen in site.seen("/secret") + site.seen("/disabled/secret")] == [
            "s3cr3t", "s3cr3t"]


class TestManagedCachePolicies:
    def test_caching_optimized_keeps_an_unlabelled_answer_a_day_without_query_or_cookies(self, site: Site) -> None:
        site.origin.routes["/optimized/logo.svg"] = Route(200, {"Content-Type": "image/svg+xml"}, b"<svg/>")
        assert site.get("/optimized/logo.svg?v=1", Cookie="session=a", X_Trace="1")[2] == b"<svg/>"
        status, headers, body = site.get("/optimized/logo.svg?v=2", Cookie="session=b")
        assert (status, body) == (200, b"<svg/>")
        assert "hit" in headers["cache-status"]
        ttl = re.search(r"ttl=(\d+)", headers["cache-status"])
        assert ttl is not None
        assert 86000 < int(ttl.group(1)) <= 86400
        [seen] = site.seen("/optimized/logo.svg")
        assert seen.path == "/optimized/logo.svg"
        assert "cookie" not in seen.headers
        assert "x-trace" not in seen.headers

    def test_caching_optimized_stores_a_no_cache_answer_for_its_min_ttl(self, site: Site) -> None:
        site.origin.routes["/optimized/now"] = Route(200, {"Cache-Control": "no-cache"}, b"now")
        site.origin.routes["/disabled/now"] = Route(200, {"Cache-Control": "no-cache"}, b"now")
        assert "stored" in site.get("/optimized/now")[1]["cache-status"]  # for MinTTL, 1 s
        assert "stored" not in site.get("/disabled/now")[1]["cache-status"]

    def test_caching_disabled_asks_the_origin_every_time(self, site: Site) -> None:
        site.origin.routes["/disabled/feed"] = Route(200, {"Cache-Control": "max-age=300"}, b"feed")
        for _ in range(2):
            assert site.get("/disabled/feed?page=2")[2] == b"feed"
        assert [seen.path for seen in site.seen("/disabled/feed")] == ["/disabled/feed", "/disabled/feed"]

    def test_an_unknown_cache_policy_id_is_refused(self, cloudfront: Any) -> None:
        with pytest.raises(ClientError) as refused:
            cloudfront.create_distribution(DistributionConfig={
                "CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True,
                "Origins": {"Quantity": 1, "Items": [http_origin("http://127.0.0.1:9")]},
                "DefaultCacheBehavior": {"TargetOriginId": "web", "ViewerProtocolPolicy": "allow-all",
                                         "CachePolicyId": str(uuid.uuid4())}})
        assert refused.value.response["Error"]["Code"] == "NoSuchCachePolicy"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def variant(seen: Seen) -> tuple[int, dict[str, str], bytes]:
    return 200, {}, f"v={seen.headers.get('x-variant')}".encode()


class TestCustomPolicies:
    """Custom cache and origin request policies (CreateCachePolicy, CreateOriginRequestPolicy) as
    the edge applies them: a key and TTLs, what reaches the origin, and an update that reaches the
    edge without touching the distribution."""

    def test_its_key_splits_the_cache_and_an_update_reaches_the_edge(self, server: StratoServer,
                                                                     cloudfront: Any) -> None:
        config: dict[str, Any] = {
            "Name": f"variant-{uuid.uuid4().hex[:8]}", "MinTTL": 0, "DefaultTTL": 120, "MaxTTL": 600,
            "ParametersInCacheKeyAndForwardedToOrigin": {
                "EnableAcceptEncodingGzip": False,
                "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["X-Variant"]}},
                "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "none"}}}
        created = cloudfront.create_cache_policy(CachePolicyConfig=config)
        policy_id = created["CachePolicy"]["Id"]
        origin = Origin()
        try:
            site = open_site(server, cloudfront, origin, [managed("/variant/*", policy_id)])
            origin.routes["/variant/page"] = Route(answer=variant)
            assert site.get("/variant/page", X_Variant="a")[2] == b"v=a"
            assert site.get("/variant/page", X_Variant="b")[2] == b"v=b"
            status, headers, body = site.get("/variant/page?ignored=1", X_Variant="a", X_Other="x")
            assert (status, body) == (200, b"v=a")
            assert "hit" in headers["cache-status"]
            ttl = re.search(r"ttl=(\d+)", headers["cache-status"])
            assert ttl is not None
            assert 100 < int(ttl.group(1)) <= 120  # the policy's DefaultTTL: the origin said nothing
            assert [seen.path for seen in site.seen("/variant/page")] == ["/variant/page", "/variant/page"]

            keyless = {**config, "ParametersInCacheKeyAndForwardedToOrigin": {
                **config["ParametersInCacheKeyAndForwardedToOrigin"], "HeadersConfig": {"HeaderBehavior": "none"}}}
            cloudfront.update_cache_policy(Id=policy_id, CachePolicyConfig=keyless, IfMatch=created["ETag"])
            origin.routes["/variant/other"] = Route(answer=variant)
            deadline = time.monotonic() + 10  # the edge reads the registry again within a second
            while site.get("/variant/other", X_Variant="c")[2] != b"v=None" and time.monotonic() < deadline:
                time.sleep(0.1)
            assert site.get("/variant/other", X_Variant="c")[2] == b"v=None"  # no longer forwarded
        finally:
            origin.close()

    def test_a_custom_origin_request_policy_sends_what_it_names_without_splitting_the_cache(
        self, server: StratoServer, cloudfront: Any
    ) -> None:
        created = cloudfront.create_origin_request_policy(OriginRequestPolicyConfig={
            "Name": f"extra-{uuid.uuid4().hex[:8]}",
            "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["X-Extra"]}},
            "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "none"}})
        origin = Origin()
        try:
            site = open_site(server, cloudfront, origin, [managed(
                "/extra/*", CACHING_OPTIMIZED, OriginRequestPolicyId=created["OriginRequestPolicy"]["Id"])])
            origin.routes["/extra/page"] = Route(answer=lambda seen: (200, {}, b"page"))
            assert site.get("/extra/page", X_Extra="one", X_Other="no")[2] == b"page"
            status, headers, _ = site.get("/extra/page", X_Extra="two")
            assert status == 200
            assert "hit" in headers["cache-status"]  # the header goes to the origin, not into the key
            [seen] = site.seen("/extra/page")
            assert seen.headers["x-extra"] == "one"
            assert "x-other" not in seen.headers
        finally:
            origin.close()

    def test_what_a_policy_lists_as_all_except_is_neither_keyed_nor_forwarded(self, server: StratoServer,
                                                                           cloudfront: Any) -> None:
        """QueryStringBehavior and CookieBehavior `allExcept` (API_CachePolicyQueryStringsConfig,
        API_CachePolicyCookiesConfig): every value in the key and in origin requests but those
        listed; an origin request policy's `allExcept` keeps its listed ones from the origin."""
        key = cloudfront.create_cache_policy(CachePolicyConfig={
            "Name": f"untracked-{uuid.uuid4().hex[:8]}", "MinTTL": 0, "DefaultTTL": 120, "MaxTTL": 600,
            "ParametersInCacheKeyAndForwardedToOrigin": {
                "EnableAcceptEncodingGzip": False, "HeadersConfig": {"HeaderBehavior": "none"},
                "CookiesConfig": {"CookieBehavior": "allExcept", "Cookies": {"Quantity": 1, "Items": ["tracker"]}},
                "QueryStringsConfig": {"QueryStringBehavior": "allExcept",
                                       "QueryStrings": {"Quantity": 1, "Items": ["utm_source"]}}}})
        sent = cloudfront.create_origin_request_policy(OriginRequestPolicyConfig={
            "Name": f"unsent-{uuid.uuid4().hex[:8]}", "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": {"CookieBehavior": "allExcept", "Cookies": {"Quantity": 1, "Items": ["secret"]}},
            "QueryStringsConfig": {"QueryStringBehavior": "allExcept",
                                   "QueryStrings": {"Quantity": 1, "Items": ["token"]}}})
        origin = Origin()
        try:
            site = open_site(server, cloudfront, origin, [
                managed("/untracked/*", key["CachePolicy"]["Id"]),
                managed("/unsent/*", CACHING_OPTIMIZED, OriginRequestPolicyId=sent["OriginRequestPolicy"]["Id"])])
            for path in ("/untracked/page", "/unsent/page"):
                origin.routes[path] = Route(200, {"Cache-Control": "max-age=300"}, b"page")
            assert site.get("/untracked/page?id=1&utm_source=mail", Cookie="session=s; tracker=t1")[2] == b"page"
            status, headers, _ = site.get("/untracked/page?id=1&utm_source=ad", Cookie="session=s; tracker=t2")
            assert status == 200
            assert "hit" in headers["cache-status"]
            [seen] = site.seen("/untracked/page")
            assert (seen.path, seen.headers["cookie"]) == ("/untracked/page?id=1", "session=s")

            assert site.get("/unsent/page?page=2&token=t", Cookie="theme=dark; secret=x")[2] == b"page"
            [seen] = site.seen("/unsent/page")
            assert (seen.path, seen.headers["cookie"]) == ("/unsent/page?page=2", "theme=dark")
        finally:
            origin.close()
