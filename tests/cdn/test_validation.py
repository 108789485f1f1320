"""The rules CloudFront applies to a configuration and an invalidation batch."""

from __future__ import annotations

import dataclasses

import pytest

from strato.cdn import cache_policies, origin_request_policies, response_headers_policies
from strato.cdn.cache_policies import CACHING_OPTIMIZED
from strato.cdn.errors import (
    BatchTooLarge,
    CdnError,
    InvalidArgument,
    InvalidDefaultRootObject,
    InvalidErrorCode,
    InvalidForwardCookies,
    InvalidOrigin,
    InvalidOriginKeepaliveTimeout,
    InvalidOriginReadTimeout,
    InvalidRelativePath,
    InvalidResponseCode,
    InvalidTTLOrder,
    NoSuchOrigin,
)
from strato.cdn.records import (
    Cookies,
    CustomErrorResponse,
    CustomOriginConfig,
    ForwardedValues,
    Origin,
    S3OriginConfig,
)
from strato.cdn.validation import bucket_of, check_config, check_paths

from .samples import BUCKET, WEB, behavior, config


class TestConfig:
    def test_a_sound_config_passes(self) -> None:
        check_config(config(behavior("web", "/api/*", cache_policy_id=CACHING_OPTIMIZED, forwarded_values=None),
                            aliases=("*.example.com", "www.example.org")))

    def test_every_managed_policy_may_be_named(self) -> None:
        check_config(config(*(
            behavior("web", f"/{cache}/{request}/{response}/*", forwarded_values=None, cache_policy_id=cache,
                     origin_request_policy_id=request, response_headers_policy_id=response)
            for cache, request, response in zip(cache_policies.MANAGED, origin_request_policies.MANAGED,
                                                response_headers_policies.MANAGED, strict=False))))

    def test_forwarded_headers_and_origin_custom_headers_that_cloudfront_takes_pass(self) -> None:
        forwarded = ForwardedValues(True, Cookies("all"), ("Accept-Language", "X-Tenant", "Origin"))
        check_config(config(behavior(pattern="/x", forwarded_values=forwarded),
                            behavior(pattern="/y", forwarded_values=ForwardedValues(True, Cookies("all"), ("*",))),
                            origins=(BUCKET, dataclasses.replace(WEB, custom_headers=(("X-Origin-Secret", "s"),)))))

    @pytest.mark.parametrize(("broken", "error"), [
        (config(behavior("elsewhere", "/x")), NoSuchOrigin),
        (config(behavior(pattern="/x", min_ttl=10, max_ttl=5)), InvalidTTLOrder),
        (config(behavior(pattern="/x", default_ttl=-1)), InvalidArgument),
        (config(behavior(pattern="/x", viewer_protocol_policy="sometimes")), InvalidArgument),
        (config(behavior(pattern="/x", allowed_methods=("GET", "POST"))), InvalidArgument),
        (config(behavior(pattern="/x", allowed_methods=("GET", "HEAD"), cached_methods=("GET", "HEAD", "OPTIONS"))),
         InvalidArgument),
        (config(behavior(pattern="/x", cache_policy_id=CACHING_OPTIMIZED)), InvalidArgument),  # and ForwardedValues
        (config(behavior(pattern="/x", forwarded_values=None)), InvalidArgument),  # neither
        (config(behavior(pattern="/x", origin_request_policy_id=origin_request_policies.ALL_VIEWER)),
         InvalidArgument),  # an origin request policy beside ForwardedValues
        (config(behavior(pattern="/x", forwarded_values=None, cache_policy_id=CACHING_OPTIMIZED, max_ttl=60)),
         InvalidArgument),  # legacy TTLs beside a cache policy
        (config(behavior(pattern="/x"), behavior(pattern="/x")), InvalidArgument),
        (config(aliases=("bad host.example.com",)), InvalidArgument),
        (config(aliases=("a.example.com", "A.example.com")), InvalidArgument),
        (config(default_root_object="/index.html"), InvalidDefaultRootObject),
        (config(comment="x" * 129), InvalidArgument),
        (config(origins=()), InvalidArgument),
        (config(origins=(BUCKET, BUCKET)), InvalidArgument),
        (config(origins=(Origin("bucket", "example.com", s3=S3OriginConfig()), WEB)), InvalidOrigin),
        (config(origins=(dataclasses.replace(BUCKET, custom=WEB.custom), WEB)), InvalidOrigin),
        (config(origins=(BUCKET, dataclasses.replace(WEB, origin_path="v1"))), InvalidArgument),
        (config(behavior(pattern="/x", forwarded_values=ForwardedValues(False, Cookies("none"), ("*", "Accept")))),
         InvalidArgument),
        (config(behavior(pattern="/x", forwarded_values=ForwardedValues(False, Cookies("none"), ("Upgrade",)))),
         InvalidArgument),
        (config(behavior(pattern="/x", forwarded_values=ForwardedValues(False, Cookies("none"), ("a", "A")))),
         InvalidArgument),
        (config(origins=(BUCKET, dataclasses.replace(WEB, custom_headers=(("Host", "elsewhere"),)))),
         InvalidArgument),
        (config(origins=(BUCKET, dataclasses.replace(WEB, custom_headers=(("X-Amz-Date", "now"),)))),
         InvalidArgument),
        (config(origins=(BUCKET, dataclasses.replace(WEB, custom_headers=(("bad name", "x"),)))), InvalidArgument),
        (config(origins=(BUCKET, dataclasses.replace(WEB, connection_attempts=4))), InvalidArgument),
        (config(origins=(BUCKET, dataclasses.replace(WEB, connection_timeout=0))), InvalidArgument),
        (config(origins=(BUCKET, dataclasses.replace(WEB, custom=CustomOriginConfig(80, 443, "http-only",
                                                                                     read_timeout=181)))),
         InvalidOriginReadTimeout),
        (config(origins=(BUCKET, dataclasses.replace(WEB, custom=CustomOriginConfig(80, 443, "http-only",
                                                                                     read_timeout=0)))),
         InvalidOriginReadTimeout),
        (config(origins=(BUCKET, dataclasses.replace(WEB, custom=CustomOriginConfig(80, 443, "http-only",
                                                                                     keepalive_timeout=181)))),
         InvalidOriginKeepaliveTimeout),
        (config(behavior(pattern="/x", forwarded_values=ForwardedValues(False, Cookies("whitelist")))),
         InvalidForwardCookies),
        (config(behavior(pattern="/x", forwarded_values=ForwardedValues(False, Cookies("whitelist", ())))),
         InvalidForwardCookies),
    ])
    def test_broken_configs_raise_cloudfronts_error(self, broken: object, error: type[CdnError]) -> None:
        with pytest.raises(error):
            check_config(broken)  # type: ignore[arg-type]

    @pytest.mark.parametrize(("broken", "error"), [
        (config(origins=(BUCKET, dataclasses.replace(WEB, custom_headers=(("X-Secret", "a\nX-Injected: yes"),)))),
         InvalidArgument),
        (config(origins=(BUCKET, dataclasses.replace(WEB, custom_headers=(("X-Secret", "a\r\n"),)))), InvalidArgument),
        (config(origins=(BUCKET, dataclasses.replace(WEB, custom_headers=(("X-Secret", "\x00"),)))), InvalidArgument),
        (config(origins=(BUCKET, dataclasses.replace(WEB, origin_path="/v1 HTTP/1.1\r\nX-Injected: yes"))),
         InvalidArgument),
        (config(origins=(BUCKET, dataclasses.replace(WEB, origin_path="/v1\n/x"))), InvalidArgument),
        (config(origins=(BUCKET, dataclasses.replace(WEB, domain_name="origin.example.com\r\nX-Injected"))),
         InvalidArgument),
        (config(origins=(BUCKET, dataclasses.replace(WEB, domain_name="origin.example.com/path"))), InvalidArgument),
        (config(default_root_object="index.html\r\nX-Injected: yes"), InvalidDefaultRootObject),
        (config(default_root_object="my index.html"), InvalidDefaultRootObject),
        (config(custom_error_responses=(CustomErrorResponse(404, "/404.html\nX-Injected: yes", "404"),)),
         InvalidRelativePath),
    ])
    def test_what_the_edge_writes_into_origin_requests_holds_no_line_break_nor_control(
            self, broken: object, error: type[CdnError]) -> None:
        """Origin domain names, paths, custom header values, the default root object and error
        pages go into the edge's requests to origins: a line break would add fields of its own."""
        with pytest.raises(error):
            check_config(broken)  # type: ignore[arg-type]

    def test_what_origin_requests_carry_may_hold_what_http_allows(self) -> None:
        check_config(config(
            origins=(BUCKET, dataclasses.replace(WEB, domain_name="127.0.0.1", origin_path="/v1/caf%C3%A9~x",
                                                 custom_headers=(("X-Secret", "a b\tc=\"d\";e"),))),
            default_root_object="docs/index~1.html",
            custom_error_responses=(CustomErrorResponse(404, "/errors/not%20found.html", "404"),)))

    @pytest.mark.parametrize(("domain", "bucket"), [
        ("photos.s3.us-east-1.amazonaws.com", "photos"),
        ("photos.s3.amazonaws.com", "photos"),
        ("my.dotted.bucket.s3.localhost", "my.dotted.bucket"),
        ("photos.s3-eu-west-1.amazonaws.com", "photos"),
        ("origin.example.com", None),
    ])
    def test_s3_origins_name_their_bucket_by_domain(self, domain: str, bucket: str | None) -> None:
        assert bucket_of(Origin("o", domain, s3=S3OriginConfig())) == bucket


class TestCustomErrorResponses:
    def test_pages_with_their_codes_and_caching_times_alone_pass(self) -> None:
        check_config(config(custom_error_responses=(
            CustomErrorResponse(404, "/errors/404.html", "200", 30),
            CustomErrorResponse(503, error_caching_min_ttl=0),
            CustomErrorResponse(403, "", "", 10),  # empty page and code, as the console sends them: none
            CustomErrorResponse(416, "/errors/range.html", "416"),
        )))

    @pytest.mark.parametrize(("responses", "error"), [
        ((CustomErrorResponse(418),), InvalidErrorCode),
        ((CustomErrorResponse(200),), InvalidErrorCode),
        ((CustomErrorResponse(404, "/e.html", "302"),), InvalidResponseCode),
        ((CustomErrorResponse(404, "/e.html", "ok"),), InvalidResponseCode),
        ((CustomErrorResponse(404, "errors/404.html", "200"),), InvalidRelativePath),
        ((CustomErrorResponse(404, response_code="200"),), InvalidArgument),  # a code needs a page
        ((CustomErrorResponse(404, "/e.html"),), InvalidArgument),  # and a page needs a code
        ((CustomErrorResponse(404, error_caching_min_ttl=-1),), InvalidArgument),
        ((CustomErrorResponse(404), CustomErrorResponse(404, error_caching_min_ttl=5)), InvalidArgument),
    ])
    def test_rules_cloudfront_refuses_raise_its_error(self, responses: tuple[CustomErrorResponse, ...],
                                                      error: type[CdnError]) -> None:
        with pytest.raises(error):
            check_config(config(custom_error_responses=responses))


class TestPaths:
    def test_exact_paths_and_trailing_wildcards_pass(self) -> None:
        check_paths(("/index.html", "/images/*", "/*", "/file*"))

    def test_encoded_paths_query_strings_and_reserved_characters_pass(self) -> None:
        check_paths(("/my%20file.jpg", "/caf%C3%A9.html", "/vendors%7Eabout.js", "/image.jpg?parameter1=a&b=c",
                     "/a;b/c:d@e$f+g!h'(i),j=k", "/%e2%82%ac"))

    @pytest.mark.parametrize("path", [
        "/my file.jpg", "/caf\u00e9.html", "/vendors~about.js", "/a<b>", '/a"b', "/a#b", "/a{b}", "/a|b", "/a\\b",
        "/a^b", "/a[b]", "/a`b", "/a\tb", "/100%", "/a%2", "/a%zz",
    ])
    def test_unencoded_unsafe_or_non_ascii_characters_are_refused(self, path: str) -> None:
        """DeveloperGuide/Invalidation.html: such characters (RFC 1738's unsafe ones) must be
        URL-encoded; CloudFront refuses a batch holding them."""
        with pytest.raises(InvalidArgument, match="invalid invalidation paths"):
            check_paths(("/fine.html", path))

    @pytest.mark.parametrize(("paths", "error"), [
        ((), InvalidArgument),
        (("index.html",), InvalidArgument),
        (("/a*/b",), InvalidArgument),
        (tuple(f"/{n}" for n in range(3001)), BatchTooLarge),
    ])
    def test_bad_batches_are_refused(self, paths: tuple[str, ...], error: type[CdnError]) -> None:
        with pytest.raises(error):
            check_paths(paths)
