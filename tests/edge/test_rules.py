"""A distribution's cache behaviour as the edge applies it: the target it keys on and asks
the origin for, how long it keeps a response (CloudFront's expiration rules), its refusals,
and how a behaviour's configuration becomes those rules."""

from __future__ import annotations

from typing import Any

import pytest

from strato.cdn.cache_policies import CACHING_DISABLED, CACHING_OPTIMIZED
from strato.cdn.records import Behavior, Cookies, ForwardedValues, TrustedGroups
from strato.edge.behavior_rules import behavior_rules
from strato.edge.cloudfront_fields import Viewer
from strato.edge.distributions import ACCESS_RECHECK, DEFAULT_DISTRIBUTION, with_custom_headers
from strato.edge.freshness import freshness_lifetime
from strato.edge.rules import (
    OPEN,
    USER_AGENT,
    HeaderPolicy,
    Rules,
    SignatureGuard,
    Ttls,
    edge_target,
    expiration,
    flight_key,
    forwarded_headers,
    freshened_expiration,
    key_target,
    keyed_fields,
    method_not_allowed,
    refused_signature,
)
from strato.http.conditionals import format_http_date

NOW = 1_700_000_000.0
TTLS = Ttls(minimum=0, default=60, maximum=100)


class NoKeys:
    def refusal(self, url: str, now: float, client_ip: str, cookie: str | None = None) -> str | None:
        return "unknown-key"


def edge_lifetime(headers: dict[str, str]) -> float:
    return freshness_lifetime(headers, response_time=NOW)


class TestEdgeTarget:
    def test_an_open_site_keeps_the_target_as_sent(self) -> None:
        assert edge_target(OPEN, "/a?Expires=1&Signature=x&b=2") == "/a?Expires=1&Signature=x&b=2"

    def test_signing_parameters_leave_a_signed_behaviours_target(self) -> None:
        signed = Rules(signatures=NoKeys())
        assert edge_target(signed, "/a?b=2&Expires=1&Signature=x&Key-Pair-Id=K&c=3") == "/a?b=2&c=3"
        assert edge_target(signed, "/a?Policy=p&Signature=x&Key-Pair-Id=K") == "/a"
        assert edge_target(signed, "/a") == "/a"

    def test_a_behaviour_forwarding_no_query_string_drops_it(self) -> None:
        assert edge_target(Rules(forward_query=False), "/a?v=1") == "/a"
        assert edge_target(Rules(forward_query=False), "/a") == "/a"


class TestKeyTarget:
    def test_without_query_string_cache_keys_the_key_is_the_forwarded_target(self) -> None:
        assert key_target(OPEN, "/a?x=1&y=2") == "/a?x=1&y=2"

    def test_query_string_cache_keys_keep_only_the_named_parameters_in_order(self) -> None:
        rules = Rules(query_keys=frozenset({"x", "z"}))
        assert key_target(rules, "/a?z=3&y=2&x=1") == "/a?z=3&x=1"
        assert key_target(rules, "/a?y=2") == "/a"
        assert key_target(rules, "/a") == "/a"

    def test_behaviours_name_them_only_when_query_strings_are_forwarded(self) -> None:
        def keys(forwarded: ForwardedValues) -> frozenset[str] | None:
            return behavior_rules("E1", behavior(forwarded_values=forwarded), {}, {}).query_keys

        assert keys(ForwardedValues(True, Cookies("none"), query_string_cache_keys=("q",))) == frozenset({"q"})
        assert keys(ForwardedValues(True, Cookies("none"), query_string_cache_keys=())) is None
        assert keys(ForwardedValues(False, Cookies("none"), query_string_cache_keys=("q",))) is None


class TestExpiration:
    """AWS CloudFront DeveloperGuide/Expiration.html, with MinTTL 0, DefaultTTL 60, MaxTTL 100."""

    def test_no_expiration_from_the_origin_gets_the_default_ttl(self) -> None:
        assert edge_lifetime(expiration({"etag": '"1"'}, 200, TTLS, NOW)) == 60

    @pytest.mark.parametrize(("cache_control", "lifetime"), [
        ("max-age=30", 30), ("max-age=3600", 100), ("s-maxage=90, max-age=10", 90), ("s-maxage=500", 100),
    ])
    def test_the_origins_max_age_is_clamped_to_the_bounds(self, cache_control: str, lifetime: int) -> None:
        assert edge_lifetime(expiration({"cache-control": cache_control}, 200, TTLS, NOW)) == lifetime

    def test_an_expires_is_clamped_too(self) -> None:
        headers = {"date": format_http_date(NOW), "expires": format_http_date(NOW + 1000)}
        assert edge_lifetime(expiration(headers, 200, TTLS, NOW)) == 100
        assert edge_lifetime(expiration(headers, 200, Ttls(2000, 2000, 3000), NOW)) == 2000

    @pytest.mark.parametrize("directive", ["no-cache", "no-store", "private"])
    def test_uncacheable_responses_stay_so_with_a_zero_min_ttl(self, directive: str) -> None:
        headers = {"cache-control": directive}
        assert expiration(headers, 200, TTLS, NOW) == headers

    @pytest.mark.parametrize("directive", ["no-cache", "no-store", "private, max-age=5"])
    def test_a_min_ttl_above_zero_caches_them_for_that_long(self, directive: str) -> None:
        headers = expiration({"cache-control": directive}, 200, Ttls(30, 60, 100), NOW)
        assert headers["cdn-cache-control"] == "max-age=30"
        assert headers["cache-control"] == directive  # what clients are told stays the origin's

    def test_an_error_status_keeps_the_origins_rules(self) -> None:
        assert expiration({}, 404, TTLS, NOW) == {}
        assert expiration({}, 503, TTLS, NOW) == {}

    def test_the_origins_own_cdn_cache_control_is_clamped_like_the_rest(self) -> None:
        headers = expiration({"cdn-cache-control": "max-age=9000", "cache-control": "max-age=5"}, 200, TTLS, NOW)
        assert headers["cdn-cache-control"] == "max-age=100"


class TestFreshenedExpiration:
    def test_a_304_without_expiration_fields_keeps_the_stored_lifetime(self) -> None:
        stored = expiration({"cache-control": "max-age=30", "etag": '"1"'}, 200, TTLS, NOW)
        merged = {**stored, "date": format_http_date(NOW)}
        assert freshened_expiration(merged, {"etag": '"1"'}, 200, TTLS, NOW) == merged

    def test_a_304_with_a_new_max_age_is_clamped_again(self) -> None:
        stored = expiration({"cache-control": "max-age=30"}, 200, TTLS, NOW)
        merged = {**stored, "cache-control": "max-age=5000"}
        assert freshened_expiration(merged, {"cache-control": "max-age=5000"}, 200, TTLS, NOW)[
            "cdn-cache-control"] == "max-age=100"


class TestRefusals:
    @pytest.mark.parametrize(("reason", "code"), [
        ("missing-signature", b"MissingKey"), ("unknown-key", b"InvalidKey"), ("expired", b"AccessDenied"),
        ("bad-signature", b"AccessDenied"),
    ])
    def test_a_refused_signature_is_cloudfronts_403(self, reason: str, code: bytes) -> None:
        answer = refused_signature(reason, "GET")
        assert answer.status == 403
        assert answer.headers["content-type"] == "text/xml"
        assert answer.body is not None
        body = b"".join(part for part in answer.body if isinstance(part, bytes))
        assert b"<Code>" + code + b"</Code>" in body
        assert answer.headers["content-length"] == str(len(body))

    def test_head_gets_no_body(self) -> None:
        assert refused_signature("expired", "HEAD").body is None
        assert method_not_allowed("HEAD").body is None
        assert method_not_allowed("POST").status == 403


def behavior(**fields: Any) -> Behavior:
    settings: dict[str, Any] = {"target_origin_id": "web", "viewer_protocol_policy": "allow-all",
                                "forwarded_values": ForwardedValues(True, Cookies("none"))}
    return Behavior(**{**settings, **fields})


class TestBehaviorRules:
    """A CacheBehavior (AWS CloudFront API_CacheBehavior) as the proxy's Rules."""

    def rules(self, found: Behavior, keys: dict[str, dict[str, str]] | None = None) -> Rules:
        guards: dict[tuple[str, ...], SignatureGuard] = {}
        return behavior_rules("E1", found, keys or {}, guards)

    def test_the_defaults_are_cloudfronts(self) -> None:
        rules = self.rules(behavior())
        assert rules.site == "E1"
        assert rules.allowed_methods == frozenset({"GET", "HEAD"})
        assert rules.signatures is None
        assert rules.forward_query
        assert rules.ttls is None

    def test_ttls_left_out_default_as_cloudfronts_do(self) -> None:
        assert self.rules(behavior(min_ttl=5)).ttls == Ttls(5, 86400, 31536000)
        assert self.rules(behavior(min_ttl=0, default_ttl=10, max_ttl=20)).ttls == Ttls(0, 10, 20)

    def test_caching_optimized_keeps_its_ttls_and_forwards_nothing_but_the_request_itself(self) -> None:
        rules = self.rules(behavior(forwarded_values=None, cache_policy_id=CACHING_OPTIMIZED, compress=True))
        assert rules.ttls == Ttls(1, 86400, 31536000)
        assert rules.cache
        assert rules.compress == ("br", "gzip")
        assert not rules.forward_query
        assert rules.cookies == frozenset()
        assert rules.headers == HeaderPolicy(keyed=(), others=False, encodings=("br", "gzip"), keys_encoding=True)

    def test_caching_disabled_caches_nothing_and_cannot_compress(self) -> None:
        rules = self.rules(behavior(forwarded_values=None, cache_policy_id=CACHING_DISABLED, compress=True))
        assert not rules.cache
        assert not rules.compress

    def test_all_viewer_forwards_everything_the_key_leaves_out(self) -> None:
        rules = self.rules(behavior(forwarded_values=None, cache_policy_id=CACHING_OPTIMIZED,
                                    origin_request_policy_id="216adef6-5c7f-47e4-b989-5492eafa07d3"))
        assert rules.forward_query
        assert rules.query_keys == frozenset()
        assert rules.headers == HeaderPolicy(keyed=(), others=False, encodings=("br", "gzip"), every=True,
                                             keys_encoding=True)
        assert rules.cookies is None

    def test_forwarded_headers_are_keyed_and_a_star_caches_nothing(self) -> None:
        named = ForwardedValues(True, Cookies("none"), ("X-Tenant", "Accept-Language"))
        assert self.rules(behavior(forwarded_values=named)).headers == HeaderPolicy(("accept-language", "x-tenant"))
        assert self.rules(behavior()).headers == HeaderPolicy(())
        every = self.rules(behavior(forwarded_values=ForwardedValues(True, Cookies("all"), ("*",))))
        assert every.headers == HeaderPolicy(as_sent=True)
        assert not every.cache

    def test_cloudfront_request_headers_among_the_forwarded_ones_are_computed(self) -> None:
        named = ForwardedValues(True, Cookies("none"), ("CloudFront-Is-Mobile-Viewer", "CloudFront-Viewer-Country"))
        rules = self.rules(behavior(forwarded_values=named))
        assert rules.headers is not None
        assert rules.headers.keyed == ("cloudfront-is-mobile-viewer", "cloudfront-viewer-country")
        assert rules.headers.computed == ("cloudfront-is-mobile-viewer",)  # no country without GeoIP
        assert rules.computes_fields
        assert not self.rules(behavior()).computes_fields

    def test_cached_methods_and_compress_come_from_the_behaviour(self) -> None:
        assert not self.rules(behavior()).cache_options
        assert not self.rules(behavior()).compress
        options = self.rules(behavior(allowed_methods=("GET", "HEAD", "OPTIONS"),
                                      cached_methods=("GET", "HEAD", "OPTIONS"), compress=True))
        assert options.cache_options
        assert options.compress == ("gzip",)  # no Brotli under legacy cache settings

    def test_query_strings_and_methods_come_from_the_behaviour(self) -> None:
        rules = self.rules(behavior(forwarded_values=ForwardedValues(False, Cookies("none")),
                                    allowed_methods=("GET", "HEAD", "OPTIONS")))
        assert not rules.forward_query
        assert rules.allowed_methods == frozenset({"GET", "HEAD", "OPTIONS"})

    def test_trusted_key_groups_ask_for_signatures(self) -> None:
        rules = self.rules(behavior(trusted_key_groups=TrustedGroups(True, ("G1",))), {"G1": {}})
        assert rules.signatures is not None
        assert rules.signatures.refusal("http://h/a", NOW, "") == "missing-signature"
        assert self.rules(behavior(trusted_key_groups=TrustedGroups(False, ()))).signatures is None

    def test_legacy_trusted_signers_refuse_every_request(self) -> None:
        rules = self.rules(behavior(trusted_signers=TrustedGroups(True, ("self",))))
        assert rules.signatures is not None
        assert rules.signatures.refusal("http://h/a?Expires=1&Signature=AAAA&Key-Pair-Id=APK", NOW, "") == \
            "unknown-key"


HEADERS = {"cookie": "session=abc; theme=dark; CloudFront-Signature=x", "accept": "*/*"}


class TestForwardedCookies:
    def test_every_cookie_goes_to_the_origin_unless_the_behaviour_says_otherwise(self) -> None:
        assert forwarded_headers(OPEN, HEADERS) == HEADERS

    def test_forward_none_drops_the_cookie_field(self) -> None:
        assert forwarded_headers(Rules(cookies=frozenset()), HEADERS) == {"accept": "*/*"}

    def test_a_whitelist_keeps_only_the_named_cookies(self) -> None:
        kept = forwarded_headers(Rules(cookies=frozenset({"theme"})), HEADERS)
        assert kept == {"cookie": "theme=dark", "accept": "*/*"}

    def test_behaviours_say_which_cookies_they_forward(self) -> None:
        def cookies(forward: Cookies) -> frozenset[str] | None:
            return behavior_rules("E1", behavior(forwarded_values=ForwardedValues(True, forward)), {}, {}).cookies

        assert cookies(Cookies("none")) == frozenset()
        assert cookies(Cookies("all")) is None
        assert cookies(Cookies("whitelist", ("a", "b"))) == frozenset({"a", "b"})

    def test_the_cookies_a_behaviour_forwards_are_in_its_cache_key(self) -> None:
        def keyed(forward: Cookies) -> tuple[str, ...] | None:
            rules = behavior_rules("E1", behavior(forwarded_values=ForwardedValues(True, forward)), {}, {})
            return keyed_fields(rules, ())

        assert keyed(Cookies("none")) == ()
        assert keyed(Cookies("all")) == ("cookie",)
        assert keyed(Cookies("whitelist", ("session",))) == ("cookie",)

    def test_whitelisted_cookies_key_alike_whatever_order_they_came_in(self) -> None:
        rules = Rules(cookies=frozenset({"a", "b"}))
        one = forwarded_headers(rules, {"cookie": "b=2; tracking=x; a=1"})
        other = forwarded_headers(rules, {"cookie": "a=1; b=2; tracking=y"})
        assert one == other == {"cookie": "a=1; b=2"}


VIEWER = {
    "host": "shop.example.com", "accept": "text/html", "accept-language": "fr", "accept-encoding": "gzip, deflate, br",
    "user-agent": "curl/8", "referer": "http://elsewhere/", "authorization": "Bearer t", "x-tenant": "blue",
    "x-edge-location": "here", "if-none-match": '"v1"', "range": "bytes=0-9", "cookie": "a=1",
    "cloudfront-is-mobile-viewer": "true",
}


class TestForwardedHeaders:
    """AWS CloudFront DeveloperGuide/RequestAndResponseBehaviorCustomOrigin.html, the request header table."""

    def test_an_open_site_forwards_every_field_as_it_came(self) -> None:
        assert forwarded_headers(OPEN, VIEWER) is VIEWER

    def test_legacy_settings_drop_what_cloudfront_drops_and_forward_other_defined_fields(self) -> None:
        sent = forwarded_headers(Rules(headers=HeaderPolicy()), VIEWER)
        assert sent == {"host": "shop.example.com", "accept-encoding": "br,gzip", "user-agent": USER_AGENT,
                        "x-tenant": "blue", "if-none-match": '"v1"', "range": "bytes=0-9", "cookie": "a=1"}

    def test_a_viewer_cannot_set_cloudfronts_own_fields_even_keyed_ones(self) -> None:
        rules = Rules(headers=HeaderPolicy(("cloudfront-is-mobile-viewer",)))
        assert "cloudfront-is-mobile-viewer" not in forwarded_headers(rules, VIEWER)

    def test_keyed_cloudfront_fields_carry_the_edges_values_not_the_viewers(self) -> None:
        rules = Rules(headers=HeaderPolicy(("cloudfront-is-mobile-viewer", "cloudfront-viewer-country"),
                                           computed=("cloudfront-is-mobile-viewer",)))
        sent = forwarded_headers(rules, {**VIEWER, "cloudfront-viewer-country": "FR"}, viewer=Viewer("192.0.2.1", 5))
        assert sent["cloudfront-is-mobile-viewer"] == "false"  # curl/8 is no phone, whatever the viewer says
        assert "cloudfront-viewer-country" not in sent  # not computed, so not sent
        assert sent["user-agent"] == USER_AGENT

    def test_a_star_forwards_every_field_as_it_came_but_cloudfronts_own(self) -> None:
        sent = forwarded_headers(Rules(headers=HeaderPolicy(as_sent=True), cache=False), VIEWER)
        assert sent == {name: value for name, value in VIEWER.items() if name != "cloudfront-is-mobile-viewer"}

    def test_a_keyed_field_goes_as_it_came(self) -> None:
        sent = forwarded_headers(Rules(headers=HeaderPolicy(("accept-language", "authorization", "user-agent"))),
                                 VIEWER)
        assert (sent["accept-language"], sent["authorization"], sent["user-agent"]) == ("fr", "Bearer t", "curl/8")

    def test_authorization_goes_with_methods_whose_answers_are_not_cached(self) -> None:
        rules = Rules(headers=HeaderPolicy())
        assert forwarded_headers(rules, VIEWER, "POST")["authorization"] == "Bearer t"
        assert "authorization" in forwarded_headers(rules, VIEWER, "OPTIONS")
        assert "authorization" not in forwarded_headers(Rules(headers=HeaderPolicy(), cache_options=True), VIEWER,
                                                        "OPTIONS")

    def test_a_cache_policy_sends_only_the_request_itself_and_its_key(self) -> None:
        sent = forwarded_headers(Rules(headers=HeaderPolicy(others=False, encodings=()), cookies=frozenset()),
                                 VIEWER)
        assert sent == {"host": "shop.example.com", "user-agent": USER_AGENT, "if-none-match": '"v1"',
                        "range": "bytes=0-9"}

    @pytest.mark.parametrize(("sent", "normal"), [
        ("gzip", "gzip"), ("br;q=0.5, gzip", "br,gzip"), ("gzip;q=0, br", "br"), ("deflate, zstd", None),
        ("identity", None),
    ])
    def test_accept_encoding_is_normalized_to_gzip_and_br(self, sent: str, normal: str | None) -> None:
        got = forwarded_headers(Rules(headers=HeaderPolicy()), {"accept-encoding": sent})
        assert got.get("accept-encoding") == normal


class TestRevalidateAfter:
    """A stored response is validated once it was last asked of the origin `revalidate_after`
    seconds ago (the default distribution's access recheck), never on a standalone edge."""

    def test_open_rules_never_ask_again(self) -> None:
        assert not OPEN.due(0.0, 1e9)

    def test_the_default_distribution_asks_again_after_its_recheck(self) -> None:
        assert not DEFAULT_DISTRIBUTION.due(100.0, 100.0 + ACCESS_RECHECK - 0.1)
        assert DEFAULT_DISTRIBUTION.due(100.0, 100.0 + ACCESS_RECHECK)


class TestKeyedFields:
    def test_keyed_fields_join_the_origins_vary(self) -> None:
        rules = Rules(headers=HeaderPolicy(("x-tenant",)))
        assert keyed_fields(rules, ("accept-encoding",)) == ("accept-encoding", "x-tenant")
        assert keyed_fields(rules, ()) == ("x-tenant",)
        assert keyed_fields(rules, None) is None  # Vary: * is never stored
        assert keyed_fields(OPEN, ("origin",)) == ("origin",)

    def test_requests_for_different_variants_do_not_share_a_fetch(self) -> None:
        rules = Rules(headers=HeaderPolicy(("x-tenant",)))
        blue, red = (flight_key(rules, "GET h/a", {"x-tenant": tenant}) for tenant in ("blue", "red"))
        assert blue != red
        assert flight_key(rules, "GET h/a", {"x-tenant": "blue", "accept": "x"}) == blue
        assert flight_key(OPEN, "GET h/a", {"x-tenant": "blue"}) == "GET h/a"


class TestCustomHeaders:
    def test_an_origins_custom_headers_replace_the_viewers_fields_of_the_same_name(self) -> None:
        sent = with_custom_headers({"x-secret": "guess", "accept": "*/*"}, (("X-Secret", "s3cr3t"), ("X-Via", "cf")))
        assert sent == {"x-secret": "s3cr3t", "accept": "*/*", "x-via": "cf"}
        unchanged = {"accept": "*/*"}
        assert with_custom_headers(unchanged, None) is unchanged
