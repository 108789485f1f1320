"""CloudFront Functions' event object and the edge's reading of what a function returns
(AWS CloudFront DeveloperGuide/functions-event-structure.html), point by point."""

from __future__ import annotations

import base64

import pytest

from strato.edge import functions_js
from strato.edge.function_events import (
    Answer,
    Context,
    InvalidResult,
    ViewerRequest,
    output,
    request_event,
    request_result,
    response_event,
    response_result,
)

CONTEXT = Context("E2EXAMPLE00001", "e2example00001.cdn.strato.local", "req-1", "198.51.100.7")
REQUEST = ViewerRequest("GET", "/docs/", "lang=en&tag=a&tag=b&flag", [
    ("host", "www.example.com"), ("accept", "text/html"), ("x-many", "1"), ("x-many", "2"),
    ("cookie", "session=abc; theme=dark"), ("cookie", "session=def")])


def test_the_viewer_request_event_holds_the_request_as_sent() -> None:
    event = request_event(CONTEXT, REQUEST)
    assert event["version"] == "1.0"
    assert event["context"] == {"distributionDomainName": "e2example00001.cdn.strato.local",
                                "distributionId": "E2EXAMPLE00001", "eventType": "viewer-request",
                                "requestId": "req-1"}
    assert event["viewer"] == {"ip": "198.51.100.7"}
    request = event["request"]
    assert (request["method"], request["uri"]) == ("GET", "/docs/")
    assert request["querystring"] == {"lang": {"value": "en"}, "flag": {"value": ""}, "tag": {
        "value": "a", "multiValue": [{"value": "a"}, {"value": "b"}]}}
    assert request["headers"] == {"host": {"value": "www.example.com"}, "accept": {"value": "text/html"},
                                  "x-many": {"value": "1", "multiValue": [{"value": "1"}, {"value": "2"}]}}
    assert request["cookies"] == {"theme": {"value": "dark"}, "session": {
        "value": "abc", "multiValue": [{"value": "abc"}, {"value": "def"}]}}
    assert "response" not in event


def test_a_returned_request_is_what_the_cache_and_origin_see() -> None:
    request = request_event(CONTEXT, REQUEST)["request"]
    request["uri"] = "/docs/index.html"
    request["querystring"] = {"lang": {"value": "fr"}, "tag": {"multiValue": [{"value": "x"}, {"value": "y"}]}}
    request["headers"]["X-Added"] = {"value": "yes"}
    del request["headers"]["accept"]
    request["cookies"] = {"session": {"value": "abc"}}
    result = request_result(request, REQUEST)
    assert result == ViewerRequest("GET", "/docs/index.html", "lang=fr&tag=x&tag=y", [
        ("host", "www.example.com"), ("x-many", "1"), ("x-many", "2"), ("x-added", "yes"),
        ("cookie", "session=abc")])


def test_the_method_and_host_cannot_change_and_a_uri_and_query_are_percent_encoded() -> None:
    result = request_result({"method": "POST", "uri": "/caf\u00e9 menu",
                             "querystring": {"q": {"value": "cr\u00e8me br\u00fbl\u00e9e"}},
                             "headers": {"host": {"value": "other.example.com"}, "via": {"value": "1.1 x"},
                                         "content-length": {"value": "5"}}}, REQUEST)
    assert isinstance(result, ViewerRequest)
    assert (result.method, result.uri, result.query, result.headers) == (
        "GET", "/caf%C3%A9%20menu", "q=cr%C3%A8me%20br%C3%BBl%C3%A9e", [("host", "www.example.com")])


def test_a_returned_response_is_answered_with_its_cookies_and_body() -> None:
    result = request_result({"statusCode": 302, "statusDescription": "Found",
                             "headers": {"location": {"value": "https://example.com/"}},
                             "cookies": {"seen": {"value": "1", "attributes": "Path=/; Secure"}}}, REQUEST)
    assert result == Answer(302, [("location", "https://example.com/"), ("set-cookie", "seen=1; Path=/; Secure")])
    text = request_result({"statusCode": 200, "body": "hello"}, REQUEST)
    assert text == Answer(200, [], b"hello")
    encoded = base64.b64encode(b"\x00\x01").decode()
    assert request_result({"statusCode": "404", "body": {"encoding": "base64", "data": encoded}},
                          REQUEST) == Answer(404, [], b"\x00\x01")


@pytest.mark.parametrize("value", [
    None, "a string", {"uri": "no-slash"}, {"statusCode": 1000}, {"statusCode": True},
    {"uri": "/", "headers": {"x": "not an object"}}, {"uri": "/", "headers": {"x": {"value": None}}},
    {"statusCode": 200, "body": {"encoding": "base64", "data": "!!"}},
    {"statusCode": 200, "body": {"encoding": "hex", "data": "00"}},
])
def test_anything_else_is_an_invalid_result(value: object) -> None:
    with pytest.raises(InvalidResult):
        request_result(value, REQUEST)


RESPONSE = Answer(200, [("content-type", "text/html"), ("content-length", "7"), ("set-cookie", "a=1; Path=/"),
                        ("set-cookie", "b=2")])


def test_the_viewer_response_event_holds_the_request_and_the_response() -> None:
    event = response_event(CONTEXT, REQUEST, RESPONSE)
    assert event["context"]["eventType"] == "viewer-response"
    assert event["request"]["uri"] == "/docs/"
    assert event["response"] == {
        "statusCode": 200, "statusDescription": "",
        "headers": {"content-type": {"value": "text/html"}, "content-length": {"value": "7"}},
        "cookies": {"a": {"value": "1", "attributes": "Path=/"}, "b": {"value": "2"}}}


def test_a_viewer_response_function_changes_status_and_headers_but_not_the_framing() -> None:
    response = response_event(CONTEXT, REQUEST, RESPONSE)["response"]
    response["statusCode"] = 203
    response["headers"]["strict-transport-security"] = {"value": "max-age=600"}
    response["headers"]["content-length"] = {"value": "9999"}
    del response["cookies"]["b"]
    assert response_result(response, RESPONSE) == Answer(203, [
        ("content-type", "text/html"), ("strict-transport-security", "max-age=600"),
        ("set-cookie", "a=1; Path=/"), ("content-length", "7")])
    with pytest.raises(InvalidResult):
        response_result(None, RESPONSE)


def test_a_status_without_a_body_has_no_framing_and_no_final_response_is_informational() -> None:
    assert response_result({"statusCode": 204}, RESPONSE) == Answer(204, [])
    assert response_result({"statusCode": 200}, Answer(304, [("etag", '"a"')])) == Answer(200, [
        ("content-length", "0")])
    assert request_result({"statusCode": 304, "body": "dropped"}, REQUEST) == Answer(304, [])
    with pytest.raises(InvalidResult):
        request_result({"statusCode": 101}, REQUEST)


def test_test_function_output_names_what_was_returned() -> None:
    assert output({"uri": "/"}, "viewer-request") == {"request": {"uri": "/"}}
    assert output({"statusCode": 302}, "viewer-request") == {"response": {"statusCode": 302}}
    assert output({"statusCode": 200}, "viewer-response") == {"response": {"statusCode": 200}}


def test_a_query_string_returned_as_text_is_the_query_the_origin_sees() -> None:
    """cloudfront-js-2.0 functions may set `request.querystring` to a string, as AWS's own example
    that sorts the query (for a better cache hit ratio) does
    (DeveloperGuide/example_cloudfront_functions_normalize_query_string_parameters_section.html)."""
    sorting = """
    function handler(event) {
      var request = event.request, pairs = [];
      for (var name in request.querystring) {
        var entry = request.querystring[name];
        (entry.multiValue || [entry]).forEach((item) => pairs.push(name + '=' + item.value));
      }
      request.querystring = pairs.sort().join('&');
      return request;
    }"""
    outcome = functions_js.run(sorting, request_event(CONTEXT, REQUEST))
    assert outcome.error is None
    result = request_result(outcome.value, REQUEST)
    assert isinstance(result, ViewerRequest)
    assert result.query == "flag=&lang=en&tag=a&tag=b"
    spaced = request_result({"uri": "/", "querystring": "q=cr\u00e8me br\u00fbl\u00e9e&x=%41"}, REQUEST)
    assert isinstance(spaced, ViewerRequest)
    assert spaced.query == "q=cr%C3%A8me%20br%C3%BBl%C3%A9e&x=%41"


def test_a_generated_response_is_framed_by_its_body_not_by_the_function() -> None:
    result = request_result({"statusCode": 200, "body": "hi", "headers": {
        "content-length": {"value": "100"}, "transfer-encoding": {"value": "chunked"},
        "content-type": {"value": "text/plain"}}}, REQUEST)
    assert result == Answer(200, [("content-type", "text/plain")], b"hi")
