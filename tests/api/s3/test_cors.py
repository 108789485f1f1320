"""CORS rules, pure: what a PutBucketCors body may hold, how a rule survives storage, and which
rule (the first that matches) answers a browser's origin, method and requested headers."""

from __future__ import annotations

import pytest

from strato.api.s3 import cors, xml
from strato.api.s3.errors import S3Error

UPLOADS = cors.CORSRule("uploads", ("content-type", "x-amz-*"), ("PUT", "POST"),
                        ("https://app.example.com", "https://*.example.org"), ("ETag",), 600)
READS = cors.CORSRule(None, (), ("GET", "HEAD"), ("*",))
CONFIG = cors.CORSConfiguration((UPLOADS, READS))


def body(*rules: str) -> bytes:
    return ('<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            + "".join(f"<CORSRule>{rule}</CORSRule>" for rule in rules) + "</CORSConfiguration>").encode()


class TestReading:
    def test_every_field_is_read_in_order(self) -> None:
        config = cors.from_body(body(
            "<ID>uploads</ID><AllowedOrigin>https://app.example.com</AllowedOrigin>"
            "<AllowedOrigin>https://*.example.org</AllowedOrigin><AllowedMethod>PUT</AllowedMethod>"
            "<AllowedMethod>POST</AllowedMethod><AllowedHeader>content-type</AllowedHeader>"
            "<AllowedHeader>x-amz-*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>"
            "<MaxAgeSeconds>600</MaxAgeSeconds>",
            "<AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedOrigin>*</AllowedOrigin>"))
        assert config == CONFIG

    def test_a_configuration_survives_its_stored_document(self) -> None:
        assert cors.from_document(cors.to_document(CONFIG)) == CONFIG

    def test_it_is_written_back_as_get_bucket_cors_xml(self) -> None:
        rendered = xml.render("CORSConfiguration", cors.CORSConfiguration((READS,)))
        assert rendered.endswith(b"<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>"
                                 b"<AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>")

    @pytest.mark.parametrize("document", [
        body(), body("<AllowedOrigin>*</AllowedOrigin>"), body("<AllowedMethod>GET</AllowedMethod>"),
        body("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><MaxAgeSeconds>x</MaxAgeSeconds>"),
        body(*["<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>"] * 101),
        b"<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>",
    ], ids=["no-rules", "no-method", "no-origin", "max-age", "101-rules", "wrong-root"])
    def test_an_incomplete_configuration_is_malformed(self, document: bytes) -> None:
        with pytest.raises(xml.MalformedXML):
            cors.from_body(document)

    @pytest.mark.parametrize(("rule", "message"), [
        ("<AllowedMethod>get</AllowedMethod><AllowedOrigin>*</AllowedOrigin>", "Unsupported method is get"),
        ("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>**</AllowedOrigin>", 'AllowedOrigin "**"'),
        ("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><AllowedHeader>a*b*</AllowedHeader>",
         'AllowedHeader "a*b*"'),
        ("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><ExposeHeader>*</ExposeHeader>",
         'ExposeHeader "*" contains wildcard'),
    ], ids=["method-case", "origin", "header", "expose"])
    def test_values_s3_refuses_are_invalid_requests(self, rule: str, message: str) -> None:
        with pytest.raises(S3Error) as raised:
            cors.from_body(body(rule))
        assert raised.value.code == "InvalidRequest"
        assert message in raised.value.message


class TestMatching:
    def test_the_first_rule_that_allows_the_request_answers(self) -> None:
        assert cors.match(CONFIG, "https://app.example.com", "PUT") is UPLOADS
        assert cors.match(CONFIG, "https://app.example.com", "GET") is READS

    @pytest.mark.parametrize(("origin", "matches"), [
        ("https://cdn.example.org", True), ("https://a.b.example.org", True), ("https://.example.org", True),
        ("http://cdn.example.org", False), ("https://example.org", False), ("https://APP.example.com", False),
    ])
    def test_an_origin_matches_exactly_or_around_its_one_wildcard(self, origin: str, matches: bool) -> None:
        assert (cors.match(CONFIG, origin, "POST") is UPLOADS) is matches

    def test_every_requested_header_must_be_allowed_ignoring_case(self) -> None:
        asked = cors.requested_headers("Content-Type, X-Amz-Meta-A")
        assert asked == ["content-type", "x-amz-meta-a"]
        assert cors.match(CONFIG, "https://app.example.com", "PUT", asked) is UPLOADS
        assert cors.match(CONFIG, "https://app.example.com", "PUT", ["authorization"]) is None

    def test_a_rule_without_allowed_headers_allows_none(self) -> None:
        assert cors.match(CONFIG, "https://a.test", "GET", ["range"]) is None
        assert cors.match(CONFIG, "https://a.test", "GET") is READS

    def test_a_method_no_rule_names_matches_nothing(self) -> None:
        assert cors.match(CONFIG, "https://app.example.com", "DELETE") is None


class TestHeaders:
    def test_a_named_origin_is_echoed_with_credentials(self) -> None:
        assert dict(cors.preflight_headers(UPLOADS, "https://app.example.com", ["content-type"])) == {
            "access-control-allow-origin": "https://app.example.com",
            "access-control-allow-methods": "PUT, POST",
            "access-control-allow-headers": "content-type",
            "access-control-allow-credentials": "true",
            "access-control-expose-headers": "ETag",
            "access-control-max-age": "600",
            "vary": cors.VARY,
        }

    def test_a_wildcard_origin_answers_a_star_without_credentials(self) -> None:
        assert dict(cors.response_headers(READS, "https://a.test")) == {
            "access-control-allow-origin": "*", "access-control-allow-methods": "GET, HEAD", "vary": cors.VARY}

    def test_an_actual_request_gets_headers_only_from_an_allowed_origin(self) -> None:
        document = cors.to_document(cors.CORSConfiguration((UPLOADS,)))
        assert cors.headers_for(document, {"origin": "https://app.example.com"}, "PUT")
        assert cors.headers_for(document, {"origin": "https://app.example.com"}, "GET") == []
        assert cors.headers_for(document, {}, "PUT") == []
        assert cors.headers_for(None, {"origin": "https://app.example.com"}, "PUT") == []
