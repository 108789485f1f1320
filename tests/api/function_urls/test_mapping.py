"""The pure parts of function URLs, point by point: the host form, the format 2.0 event, the
result-to-response rules, CORS and the public-access rule."""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

import pytest

from strato.api.function_urls import access, cors
from strato.api.function_urls.events import UrlRequest, request_event
from strato.api.function_urls.hosts import FunctionUrlHosts
from strato.api.function_urls.results import HttpResponse, InvalidResponse, http_response

URL_ID = "abcdefghijklmnopqrstuvwxyz012345"


class TestHosts:
    def test_a_url_is_made_of_the_id_the_region_the_first_domain_and_the_port(self) -> None:
        hosts = FunctionUrlHosts("eu-west-1", ("strato.test", "other.test"), 9000)
        assert hosts.url(URL_ID) == f"http://{URL_ID}.lambda-url.eu-west-1.strato.test:9000/"

    def test_without_domains_urls_are_under_localhost(self) -> None:
        assert FunctionUrlHosts("us-east-1", (), 80).url(URL_ID) == f"http://{URL_ID}.lambda-url.us-east-1.localhost:80/"

    @pytest.mark.parametrize(("host", "expected"), [
        (f"{URL_ID}.lambda-url.us-east-1.localhost:9000", URL_ID),
        (f"{URL_ID.upper()}.LAMBDA-URL.us-east-1.localhost", URL_ID),
        (f"{URL_ID}.lambda-url.us-east-1.strato.test", URL_ID),
        (f"{URL_ID}.lambda-url.eu-west-1.localhost", None),  # another region
        ("short.lambda-url.us-east-1.localhost", None),
        (f"{URL_ID}.lambda-url.us-east-1.elsewhere.test", None),
        ("bucket.localhost:9000", None),
        ("[::1]:9000", None),
    ])
    def test_a_host_names_a_url_only_in_its_exact_form(self, host: str, expected: str | None) -> None:
        assert FunctionUrlHosts("us-east-1", ("localhost", "strato.test"), 9000).url_id(host) == expected


A_REQUEST = UrlRequest(url_id=URL_ID, method="GET", raw_path="/p", raw_query="", body=b"", source_ip="10.0.0.1",
                       scheme="http", protocol="HTTP/1.1", request_id="req-1",
                       headers=[("host", f"{URL_ID}.lambda-url.us-east-1.localhost:9000")])


def url_request(**fields: Any) -> UrlRequest:
    return dataclasses.replace(A_REQUEST, **fields)


class TestTheEvent:
    def test_repeated_headers_and_parameters_are_joined_with_commas(self) -> None:
        event = request_event(url_request(raw_query="a=1&a=2&b", headers=[
            ("host", "h:9000"), ("accept", "a"), ("accept", "b"), ("cookie", "x=1; y=2"), ("cookie", "z=3")]))
        assert event["headers"]["accept"] == "a,b"
        assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
        assert event["cookies"] == ["x=1", "y=2", "z=3"]

    def test_a_clients_forwarded_for_gets_the_address_it_came_from_appended(self) -> None:
        spoofed = request_event(url_request(headers=[("x-forwarded-for", "6.6.6.6"), ("x-forwarded-proto", "https")]))
        assert spoofed["headers"]["x-forwarded-for"] == "6.6.6.6, 10.0.0.1"
        assert spoofed["headers"]["x-forwarded-proto"] == "http"
        assert request_event(url_request())["headers"]["x-forwarded-for"] == "10.0.0.1"

    def test_the_time_is_in_lambdas_two_forms(self) -> None:
        context = request_event(url_request(), now=1700000000.25)["requestContext"]
        assert (context["time"], context["timeEpoch"]) == ("14/Nov/2023:22:13:20 +0000", 1700000000250)
        assert context["domainName"] == f"{URL_ID}.lambda-url.us-east-1.localhost"

    @pytest.mark.parametrize(("content_type", "body", "as_text"), [
        ("application/json", b'{"a": 1}', True), ("text/plain; charset=utf-8", "é".encode(), True),
        ("Application/JSON; charset=UTF-8", b"[]", True), ("TEXT/HTML", b"<p>", True),
        # Only text/* and application/json are text to Lambda: a form, XML, anything else is base64.
        ("application/x-www-form-urlencoded", b"a=1", False), ("application/xml", b"<a/>", False),
        ("multipart/form-data; boundary=text/json", b"--text/json--", False), ("", b"plain", False),
        ("application/octet-stream", b"\x00\x01", False), ("text/plain", b"\xff\xfe", False),
    ])
    def test_a_body_is_text_only_when_its_type_says_so_and_it_is_utf8(self, content_type: str, body: bytes,
                                                                      as_text: bool) -> None:
        event = request_event(url_request(method="POST", body=body, headers=[("content-type", content_type)]))
        assert event["isBase64Encoded"] is not as_text
        assert event["body"] == (body.decode() if as_text else base64.b64encode(body).decode())

    def test_an_iam_caller_is_named_in_the_authorizer(self) -> None:
        context = request_event(url_request(access_key="AKID"))["requestContext"]
        assert context["accountId"] == "000000000000"
        assert context["authorizer"]["iam"]["accessKey"] == "AKID"


def answer(result: object) -> HttpResponse:
    return http_response(json.dumps(result).encode())


class TestTheResponse:
    def test_a_response_object_maps_field_by_field(self) -> None:
        got = answer({"statusCode": 302, "headers": {"Location": "/next", "X-N": 3}, "cookies": ["a=1"],
                      "body": "moved", "multiValueHeaders": {"X-Ignored": ["1"]}})
        assert got == HttpResponse(302, [("Location", "/next"), ("X-N", "3"), ("content-type", "application/json"),
                                         ("set-cookie", "a=1")], b"moved")

    def test_a_base64_body_is_decoded_and_an_invalid_one_refused(self) -> None:
        assert answer({"statusCode": 200, "body": "AAE=", "isBase64Encoded": True}).body == b"\x00\x01"
        with pytest.raises(InvalidResponse):
            answer({"statusCode": 200, "body": "not base64!", "isBase64Encoded": True})

    @pytest.mark.parametrize("shape", [{"statusCode": "x"}, {"statusCode": 42}, {"statusCode": 200, "body": {}},
                                       {"statusCode": 200, "headers": ["a"]}])
    def test_an_invalid_response_object_is_refused(self, shape: dict[str, object]) -> None:
        with pytest.raises(InvalidResponse):
            answer(shape)

    @pytest.mark.parametrize("payload", [b'{"statusCode": 200, "body": "\\ud800"}', b'"\\ud800"'])
    def test_a_body_with_a_lone_surrogate_is_an_invalid_response(self, payload: bytes) -> None:
        """JSON can spell it, UTF-8 cannot: a 502, not a 500."""
        with pytest.raises(InvalidResponse):
            http_response(payload)

    def test_the_urls_own_framing_headers_are_not_the_functions(self) -> None:
        """Nor its Date and request id, which it sends once (a second Date line is invalid)."""
        got = answer({"statusCode": 200, "body": "hello", "headers": {
            "Content-Length": "1", "Transfer-Encoding": "chunked", "Connection": "close", "X-Kept": "yes",
            "Date": "Thu, 01 Jan 1970 00:00:00 GMT", "X-Amzn-RequestId": "mine"}})
        assert got == HttpResponse(200, [("X-Kept", "yes"), ("content-type", "application/json")], b"hello")

    @pytest.mark.parametrize("shape", [{"headers": {"x-a": "1\r\nInjected: yes"}}, {"headers": {"bad name": "1"}},
                                       {"headers": {"x-a": "\x00"}}, {"cookies": ["a=1\r\nInjected: yes"]}])
    def test_a_header_http_cannot_carry_is_an_invalid_response(self, shape: dict[str, object]) -> None:
        with pytest.raises(InvalidResponse):
            answer({"statusCode": 200, "body": "x", **shape})

    def test_other_results_are_their_json_and_a_string_its_text(self) -> None:
        assert answer({"a": 1}) == HttpResponse(200, [("content-type", "application/json")], b'{"a": 1}')
        assert answer("hi").body == b"hi"
        assert http_response(b"not json").body == b"not json"


CORS = {"AllowOrigins": ["https://a.example"], "AllowMethods": ["GET"], "AllowHeaders": ["x-h"],
        "ExposeHeaders": ["x-e"], "MaxAge": 10}


class TestCors:
    def test_a_preflight_needs_an_origin_and_a_requested_method(self) -> None:
        assert cors.is_preflight("OPTIONS", {"origin": "o", "access-control-request-method": "GET"})
        assert not cors.is_preflight("OPTIONS", {"origin": "o"})

    def test_a_preflight_answer_lists_what_the_configuration_allows(self) -> None:
        assert cors.preflight_headers(CORS, {"origin": "https://a.example"}) == [
            ("access-control-allow-origin", "https://a.example"), ("vary", "Origin"),
            ("access-control-allow-methods", "GET"), ("access-control-allow-headers", "x-h"),
            ("access-control-max-age", "10")]
        assert cors.preflight_headers(CORS, {"origin": "https://b.example"}) == [("vary", "Origin")]

    def test_a_wildcard_origin_is_answered_with_a_star_unless_credentials_are_allowed(self) -> None:
        star = {"AllowOrigins": ["*"]}
        assert cors.response_headers(star, "https://x", []) == [("access-control-allow-origin", "*")]
        credentials = {"AllowOrigins": ["*"], "AllowCredentials": True}
        assert ("access-control-allow-origin", "https://x") in cors.response_headers(credentials, "https://x", [])

    def test_an_answer_for_another_origin_or_none_says_it_varies_by_origin(self) -> None:
        """So that a cache in front does not give one origin the answer made for another."""
        assert cors.response_headers(CORS, "https://b.example", [("x", "1")]) == [("x", "1"), ("vary", "Origin")]
        assert cors.response_headers(CORS, None, []) == [("vary", "Origin")]
        # `*`: a request with an Origin gets Access-Control-Allow-Origin, one without does not
        # (the Fetch standard, 3.2.5): the answer without says it varies too
        assert cors.response_headers({"AllowOrigins": ["*"]}, None, []) == [("vary", "Origin")]

    def test_the_configuration_replaces_the_functions_own_cors_headers(self) -> None:
        got = cors.response_headers(CORS, "https://a.example", [("Access-Control-Allow-Origin", "*"), ("x", "1")])
        assert got == [("x", "1"), ("access-control-allow-origin", "https://a.example"), ("vary", "Origin"),
                       ("access-control-expose-headers", "x-e")]


def statement(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
                               "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}}
    return {**base, **changes}


class TestPublicAccess:
    def test_a_public_invoke_function_url_permission_for_none_makes_the_url_public(self) -> None:
        assert access.allows_public([statement()])

    @pytest.mark.parametrize("changes", [{"Principal": {"AWS": "arn:aws:iam::123456789012:root"}},
                                         {"Action": "lambda:InvokeFunction"}, {"Condition": {}},
                                         {"Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}}])
    def test_anything_narrower_does_not(self, changes: dict[str, object]) -> None:
        assert not access.allows_public([statement(**changes)])
