"""A distribution's cache behaviour as the edge applies it: the target it keys on and asks
the origin for, how long it keeps a response (CloudFront's expiration rules), its refusals,
and how a behaviour's configuration becomes those rules."""

from __future__ import annotations

from typing import Any

import pytest

from strato.cdn.records import Behavior, Cookies, ForwardedValues, TrustedGroups
from strato.edge.distributions import behavior_rules
from strato.edge.freshness import freshness_lifetime
from strato.edge.rules import (
    OPEN,
    Rules,
    SignatureGuard,
    Ttls,
    edge_target,
    expiration,
    forwarded_headers,
    freshened_expiration,
    key_target,
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

    def test_a_cache_policy_leaves_freshness_and_query_strings_alone(self) -> None:
        rules = self.rules(behavior(forwarded_values=None, cache_policy_id="658327ea", min_ttl=5))
        assert rules.ttls is None
        assert rules.forward_query

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
