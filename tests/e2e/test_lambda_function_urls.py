"""Lambda function URLs against a real strato: the five operations through boto3 with Lambda's
answers and errors, then HTTP requests to a URL's own host (sent to 127.0.0.1 with an explicit
Host header, since `*.localhost` need not resolve here): the event a function receives, each
response shape, auth types and CORS."""

from __future__ import annotations

import base64
import http.client
import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import make_client
from tests.e2e.client_errors import refused
from tests.e2e.lambda_helpers import deploy, deployed, published_with_alias
from tests.edge.conftest import StratoEdge
from tests.servers import ACCESS_KEY, StratoServer, read_response, signed_headers


@pytest.fixture
def name(lam: Any) -> Iterator[str]:
    with published_with_alias(lam, "url") as created:
        yield created


CORS = {"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"], "AllowHeaders": ["x-custom"],
        "ExposeHeaders": ["x-trace"], "AllowCredentials": True, "MaxAge": 300}


class TestControlPlane:
    def test_create_answers_the_url_and_get_reads_it_back(self, lam: Any, name: str, server: StratoServer) -> None:
        created = lam.create_function_url_config(FunctionName=name, AuthType="NONE", Cors=CORS)
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert re.fullmatch(rf"http://[a-z0-9]{{32}}\.lambda-url\.us-east-1\.localhost:{server.port}/",
                            created["FunctionUrl"])
        assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        assert (created["AuthType"], created["Cors"], created["InvokeMode"]) == ("NONE", CORS, "BUFFERED")
        assert "LastModifiedTime" not in created
        got = lam.get_function_url_config(FunctionName=name)
        assert got["FunctionUrl"] == created["FunctionUrl"]
        assert got["CreationTime"] == created["CreationTime"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", got["LastModifiedTime"])

    def test_an_alias_has_a_url_of_its_own(self, lam: Any, name: str) -> None:
        function = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
        alias = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="AWS_IAM")
        assert alias["FunctionArn"].endswith(f"function:{name}:live")
        assert alias["FunctionUrl"] != function["FunctionUrl"]
        listed = lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
        assert [c["FunctionArn"].rsplit(":", 1)[-1] for c in listed] == [name, "live"]

    def test_update_changes_the_fields_given_and_keeps_the_url(self, lam: Any, name: str) -> None:
        created = lam.create_function_url_config(FunctionName=name, AuthType="NONE", Cors=CORS)
        updated = lam.update_function_url_config(FunctionName=name, AuthType="AWS_IAM")
        assert (updated["FunctionUrl"], updated["AuthType"], updated["Cors"]) == \
            (created["FunctionUrl"], "AWS_IAM", CORS)
        assert updated["CreationTime"] == created["CreationTime"]

    def test_delete_removes_the_url_and_a_new_one_has_another_address(self, lam: Any, name: str) -> None:
        first = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
        assert lam.delete_function_url_config(FunctionName=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert refused(lam.get_function_url_config, FunctionName=name) == \
            ("ResourceNotFoundException", 404, "The resource you requested does not exist.")
        assert lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"] != first

    def test_list_pages_with_marker_and_max_items(self, lam: Any, name: str) -> None:
        lam.create_function_url_config(FunctionName=name, AuthType="NONE")
        lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")
        first = lam.list_function_url_configs(FunctionName=name, MaxItems=1)
        rest = lam.list_function_url_configs(FunctionName=name, Marker=first["NextMarker"])
        assert len(first["FunctionUrlConfigs"]) == len(rest["FunctionUrlConfigs"]) == 1
        assert "NextMarker" not in rest

    def test_deleting_the_function_deletes_its_urls(self, lam: Any, name: str) -> None:
        lam.create_function_url_config(FunctionName=name, AuthType="NONE")
        lam.delete_function(FunctionName=name)
        assert refused(lam.list_function_url_configs, FunctionName=name) == \
            ("ResourceNotFoundException", 404, "Function does not exist")


class TestControlPlaneErrors:
    def test_a_second_url_for_the_same_qualifier_conflicts(self, lam: Any, name: str) -> None:
        lam.create_function_url_config(FunctionName=name, AuthType="NONE")
        arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        assert refused(lam.create_function_url_config, FunctionName=name, AuthType="NONE") == (
            "ResourceConflictException", 409, f"Failed to create function url config for [functionArn = {arn}]. "
            "Error message:  FunctionUrlConfig exists for this Lambda function")

    def test_a_missing_function_or_alias_is_not_found(self, lam: Any, name: str) -> None:
        assert refused(lam.create_function_url_config, FunctionName="no-such-function", AuthType="NONE") == \
            ("ResourceNotFoundException", 404, "Function does not exist")
        assert refused(lam.create_function_url_config, FunctionName=name, Qualifier="nope", AuthType="NONE") == \
            ("ResourceNotFoundException", 404, "Function does not exist")
        assert refused(lam.update_function_url_config, FunctionName=name, AuthType="NONE") == \
            ("ResourceNotFoundException", 404, "The resource you requested does not exist.")
        assert refused(lam.delete_function_url_config, FunctionName=name) == \
            ("ResourceNotFoundException", 404, "The resource you requested does not exist.")

    def test_latest_and_version_numbers_are_refused_as_qualifiers(self, server: StratoServer, name: str) -> None:
        raw = make_client(server.url, "lambda", parameter_validation=False)
        code, status, message = refused(raw.create_function_url_config, FunctionName=name, Qualifier="$LATEST",
                                        AuthType="NONE")
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert message.startswith("1 validation error detected: Value '$LATEST' at 'qualifier'")
        code, status, message = refused(raw.get_function_url_config, FunctionName=name, Qualifier="1")
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert message.startswith("1 validation error detected: Value '1' at 'qualifier'")

    def test_fields_outside_their_shapes_are_refused_in_lambdas_words(self, server: StratoServer, name: str) -> None:
        raw = make_client(server.url, "lambda", parameter_validation=False)
        cases: list[tuple[dict[str, Any], str]] = [
                 ({}, "Value null at 'authType' failed to satisfy constraint: Member must not be null"),
                 ({"AuthType": "OPEN"}, "Value 'OPEN' at 'authType' failed to satisfy constraint: Member must "
                  "satisfy enum value set: [NONE, AWS_IAM]"),
                 ({"AuthType": "NONE", "InvokeMode": "FAST"}, "Value 'FAST' at 'invokeMode'"),
                 ({"AuthType": "NONE", "Cors": {"AllowMethods": ["GET", "OPTIONS"]}},
                  "Value '[GET, OPTIONS]' at 'cors.allowMethods' failed to satisfy constraint: Member must satisfy "
                  "constraint: [Member must have length less than or equal to 6"),
                 ({"AuthType": "NONE", "Cors": {"MaxAge": 86401}},
                  "Value '86401' at 'cors.maxAge' failed to satisfy constraint: Member must have value less than or "
                  "equal to 86400")]
        for fields, words in cases:
            code, status, message = refused(raw.create_function_url_config, FunctionName=name, **fields)
            assert (code, status) == ("InvalidParameterValueException", 400), fields
            assert message.startswith(f"1 validation error detected: {words}"), message


HANDLER = """
import base64, json

def handler(event, context):
    if event["rawPath"].startswith("/echo"):
        return event
    if event["rawPath"] == "/fail":
        raise RuntimeError("boom")
    if event["rawPath"] == "/arn":
        return {"arn": context.invoked_function_arn, "request": context.aws_request_id}
    body = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"]
    return json.loads(body)["return"]
"""
# Lambda's words (2025) for a caller the URL's auth type turns away.
FORBIDDEN = ("Forbidden. For troubleshooting Function URL authorization issues, see: "
             "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html")
PUBLIC = {"StatementId": "public-url", "Action": "lambda:InvokeFunctionUrl", "Principal": "*",
          "FunctionUrlAuthType": "NONE"}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    set_cookies: list[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(server: StratoServer, url: str, method: str = "GET", path: str = "/", body: bytes = b"",
         headers: dict[str, str] | None = None, sign: bool = False) -> Answer:
    """An HTTP request to a function URL: to strato's port, with the URL's host as Host;
    `sign`: SigV4 for service lambda with the test's root keys."""
    host = urlsplit(url).netloc
    sent = {"Host": host, **(headers or {})}
    if sign:
        sent = signed_headers(method, f"http://{host}{path}", "lambda", body, sent)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        headers_got = {name.lower(): value for name, value in response.getheaders()}
        cookies = [value for name, value in response.getheaders() if name.lower() == "set-cookie"]
        return Answer(response.status, headers_got, cookies, response.read())
    finally:
        connection.close()


def returning(value: Any) -> bytes:
    return json.dumps({"return": value}).encode()


@pytest.fixture(scope="module")
def public(lam: Any) -> Iterator[tuple[str, str]]:
    """A function whose URL (AuthType NONE) the policy makes public, with CORS: (name, URL)."""
    name = deploy(lam, HANDLER, Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.add_permission(FunctionName=name, **PUBLIC)
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE", Cors=CORS)["FunctionUrl"]
    yield name, url
    lam.delete_function(FunctionName=name)


@pytest.fixture(scope="module")
def url(public: tuple[str, str]) -> str:
    return public[1]


class TestTheEvent:
    def test_a_get_with_query_and_cookies_becomes_a_format_2_event(self, server: StratoServer, url: str) -> None:
        event = call(server, url, path="/echo?a=1&b=x%20y&a=2", headers={
            "Cookie": "session=abc; theme=dark", "User-Agent": "tests/1.0", "X-Many": "one"}).json()
        host = urlsplit(url).netloc
        url_id = host.split(".")[0]
        assert (event["version"], event["routeKey"], event["rawPath"]) == ("2.0", "$default", "/echo")
        assert event["rawQueryString"] == "a=1&b=x%20y&a=2"
        assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
        assert event["cookies"] == ["session=abc", "theme=dark"]
        assert event["headers"]["user-agent"] == "tests/1.0"
        assert event["headers"]["x-many"] == "one"
        assert "cookie" not in event["headers"]
        assert event["isBase64Encoded"] is False
        assert "body" not in event
        context = event["requestContext"]
        assert (context["accountId"], context["apiId"], context["domainPrefix"]) == ("anonymous", url_id, url_id)
        assert context["domainName"] == host.rsplit(":", 1)[0]
        assert context["http"] == {"method": "GET", "path": "/echo", "protocol": "HTTP/1.1",
                                   "sourceIp": "127.0.0.1", "userAgent": "tests/1.0"}
        assert (context["routeKey"], context["stage"]) == ("$default", "$default")
        assert re.fullmatch(r"[0-9a-f-]{36}", context["requestId"])
        assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", context["time"])
        assert isinstance(context["timeEpoch"], int)
        assert "authorizer" not in context

    def test_the_connections_own_headers_are_not_the_functions(self, server: StratoServer, url: str) -> None:
        """As Lambda's events have no `connection` though requests and browsers send it: the URL
        is the connection's end, not the function."""
        headers = call(server, url, path="/echo", headers={
            "Connection": "keep-alive", "Keep-Alive": "timeout=5", "TE": "trailers", "X-Kept": "yes"}).json()["headers"]
        assert not {"connection", "keep-alive", "te"} & set(headers)
        assert headers["x-kept"] == "yes"

    def test_a_path_or_query_that_is_not_utf8_reaches_the_function_raw(self, server: StratoServer,
                                                                        url: str) -> None:
        event = call(server, url, path="/echo/%ff%2Fx?q=%ff&r=%2F").json()
        assert (event["rawPath"], event["rawQueryString"]) == ("/echo/%ff%2Fx", "q=%ff&r=%2F")
        assert event["requestContext"]["http"]["path"] == "/echo/%ff%2Fx"
        assert event["queryStringParameters"] == {"q": "\ufffd", "r": "/"}

    def test_a_json_post_is_passed_as_text_and_a_binary_one_as_base64(self, server: StratoServer, url: str) -> None:
        text = call(server, url, "POST", "/echo", b'{"hello": "world"}', {"Content-Type": "application/json"}).json()
        assert (text["body"], text["isBase64Encoded"]) == ('{"hello": "world"}', False)
        binary = bytes(range(256))
        raw = call(server, url, "POST", "/echo", binary, {"Content-Type": "application/octet-stream"}).json()
        assert raw["isBase64Encoded"] is True
        assert base64.b64decode(raw["body"]) == binary

    def test_a_form_post_is_passed_as_base64_as_lambda_passes_it(self, server: StratoServer, url: str) -> None:
        """Lambda passes a body as text only for text/* and application/json."""
        form = call(server, url, "POST", "/echo", b"message=Hello+World",
                    {"Content-Type": "application/x-www-form-urlencoded"}).json()
        assert (form["body"], form["isBase64Encoded"]) == (base64.b64encode(b"message=Hello+World").decode(), True)


class TestTheResponse:
    def test_a_response_object_gives_status_headers_cookies_and_body(self, server: StratoServer, url: str) -> None:
        answer = call(server, url, "POST", "/", returning({
            "statusCode": 201, "headers": {"Content-Type": "text/plain", "X-Answer": "42"},
            "cookies": ["a=1; Path=/", "b=2"], "body": "created"}))
        assert (answer.status, answer.body) == (201, b"created")
        assert (answer.headers["content-type"], answer.headers["x-answer"]) == ("text/plain", "42")
        assert answer.set_cookies == ["a=1; Path=/", "b=2"]

    def test_a_base64_body_is_decoded(self, server: StratoServer, url: str) -> None:
        image = bytes(range(200, 256))
        answer = call(server, url, "POST", "/", returning({
            "statusCode": 200, "headers": {"content-type": "image/png"},
            "body": base64.b64encode(image).decode(), "isBase64Encoded": True}))
        assert (answer.status, answer.headers["content-type"], answer.body) == (200, "image/png", image)

    def test_a_status_without_body_or_type_is_an_empty_json_answer(self, server: StratoServer, url: str) -> None:
        answer = call(server, url, "POST", "/", returning({"statusCode": 404}))
        assert (answer.status, answer.headers["content-type"], answer.body) == (404, "application/json", b"")

    def test_any_other_result_is_a_200_with_its_json_and_a_string_is_the_body(self, server: StratoServer,
                                                                               url: str) -> None:
        for result in ({"message": "hi"}, [1, 2], 7, None):
            answer = call(server, url, "POST", "/", returning(result))
            assert (answer.status, answer.headers["content-type"]) == (200, "application/json")
            assert answer.json() == result
        answer = call(server, url, "POST", "/", returning("plain words"))
        assert (answer.status, answer.body) == (200, b"plain words")

    def test_a_204_or_304_has_no_body_whatever_the_function_returned(self, server: StratoServer, url: str) -> None:
        """The next response on the connection starts where the bodiless one's head ends (RFC
        9112 6.3): three requests in a row, three heads and the last one's body."""
        requests = b"".join(
            f"POST / HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body for body in (returning({"statusCode": status, "body": "words"}) for status in (204, 304, 200)))
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
            connection.sendall(requests)
            data = b""
            while data.count(b"HTTP/1.1 ") < 3 or not data.endswith(b"\r\n\r\nwords"):
                chunk = connection.recv(65536)
                assert chunk, data
                data += chunk
        *heads, body = data.split(b"\r\n\r\n")
        assert [head[:12] for head in heads] == [b"HTTP/1.1 204", b"HTTP/1.1 304", b"HTTP/1.1 200"]
        assert body == b"words"

    @pytest.mark.parametrize("status", [100, 101, 199])
    def test_an_informational_status_is_no_final_response_and_a_502(self, server: StratoServer, url: str,
                                                                     status: int) -> None:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
            body = returning({"statusCode": status, "body": "x"})
            connection.sendall(f"POST / HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\n"
                               f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            assert connection.recv(12) == b"HTTP/1.1 502"

    def test_a_function_error_or_an_invalid_response_is_a_502(self, server: StratoServer, url: str) -> None:
        failed = call(server, url, path="/fail")
        assert (failed.status, failed.body) == (502, b"Internal Server Error")
        assert call(server, url, "POST", "/", returning({"statusCode": "teapot"})).status == 502

    def test_a_request_over_6_mb_is_refused(self, server: StratoServer, url: str) -> None:
        answer = call(server, url, "POST", "/echo", b"x" * (6 * 1024 * 1024 + 1), {"Content-Type": "text/plain"})
        assert answer.status == 413


class TestAccess:
    def test_an_unknown_url_is_refused(self, server: StratoServer, url: str) -> None:
        unknown = url.replace(urlsplit(url).netloc.split(".")[0], "0" * 32)
        answer = call(server, unknown)
        assert (answer.status, answer.json()) == (403, {"Message": None})

    def test_none_without_a_public_permission_is_forbidden(self, lam: Any, server: StratoServer) -> None:
        with deployed(lam, HANDLER) as name:
            url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
            answer = call(server, url, path="/echo")
            assert (answer.status, answer.json()) == (403, {"Message": FORBIDDEN})
            assert answer.headers["x-amzn-errortype"] == "AccessDeniedException"
            lam.add_permission(FunctionName=name, **PUBLIC)
            assert call(server, url, path="/echo").status == 200

    def test_aws_iam_needs_a_lambda_signature(self, lam: Any, server: StratoServer) -> None:
        with deployed(lam, HANDLER) as name:
            url = lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")["FunctionUrl"]
            unsigned = call(server, url, path="/echo")
            assert (unsigned.status, unsigned.json()) == (403, {"Message": FORBIDDEN})
            event = call(server, url, "POST", "/echo", b"signed", {"Content-Type": "text/plain"}, sign=True).json()
            assert event["body"] == "signed"
            assert event["requestContext"]["accountId"] == "000000000000"
            assert event["requestContext"]["authorizer"]["iam"]["accessKey"] == ACCESS_KEY

    def test_a_signed_path_with_empty_segments_verifies_as_the_sdks_sign_it(self, lam: Any,
                                                                          server: StratoServer) -> None:
        """botocore and the JS SDK sign `/echo//a//` as `/echo/a/`: consecutive slashes are one."""
        with deployed(lam, HANDLER) as name:
            url = lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")["FunctionUrl"]
            for path in ("/echo//a//", "/echo//./b/../c"):
                answer = call(server, url, path=path, sign=True)
                assert answer.status == 200, (path, answer.body)
                assert answer.json()["rawPath"] == path

    def test_a_stranger_is_refused_before_its_body_is_read(self, lam: Any, server: StratoServer) -> None:
        with deployed(lam, HANDLER) as name:
            url = lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")["FunctionUrl"]
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
                connection.sendall(f"POST /echo HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\n"
                                   "Content-Length: 5000000\r\n\r\n".encode())
                assert connection.recv(12) == b"HTTP/1.1 403"

    def test_an_alias_url_runs_the_alias_version(self, lam: Any, server: StratoServer,
                                                 public: tuple[str, str]) -> None:
        name, _ = public
        lam.add_permission(FunctionName=name, Qualifier="live", **PUBLIC)
        alias_url = lam.create_function_url_config(FunctionName=name, Qualifier="live",
                                                   AuthType="NONE")["FunctionUrl"]
        answer = call(server, alias_url, path="/arn")
        assert answer.status == 200
        assert answer.json() == {"arn": f"arn:aws:lambda:us-east-1:000000000000:function:{name}:live",
                                 "request": answer.headers["x-amzn-requestid"]}


class TestCors:
    def test_a_preflight_is_answered_by_the_url(self, server: StratoServer, url: str) -> None:
        answer = call(server, url, "OPTIONS", "/echo", headers={
            "Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
        assert (answer.status, answer.body) == (200, b"")
        assert answer.headers["access-control-allow-origin"] == "https://app.example"
        assert answer.headers["access-control-allow-methods"] == "GET,POST"
        assert answer.headers["access-control-allow-headers"] == "x-custom"
        assert answer.headers["access-control-allow-credentials"] == "true"
        assert answer.headers["access-control-max-age"] == "300"

    def test_responses_carry_the_cors_headers_for_an_allowed_origin_only(self, server: StratoServer,
                                                                        url: str) -> None:
        allowed = call(server, url, path="/echo", headers={"Origin": "https://app.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        assert allowed.headers["access-control-expose-headers"] == "x-trace"
        other = call(server, url, path="/echo", headers={"Origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers

    def test_a_star_url_behind_the_edge_gives_a_cors_request_its_allow_origin(
        self, lam: Any, server: StratoServer, tmp_path: Path,
    ) -> None:
        """The answer to a request without an Origin (no Access-Control-Allow-Origin) says Vary:
        Origin, so a cache in front does not give it to a CORS request (Fetch 3.2.5)."""
        cacheable = ('def handler(event, context):\n'
                     '    return {"statusCode": 200, "headers": {"Cache-Control": "max-age=60"}, "body": "x"}\n')
        with deployed(lam, cacheable) as name:
            lam.add_permission(FunctionName=name, **PUBLIC)
            url = lam.create_function_url_config(FunctionName=name, AuthType="NONE",
                                                 Cors={"AllowOrigins": ["*"]})["FunctionUrl"]
            edge = StratoEdge(url.rstrip("/"), tmp_path / "cache").start()
            try:
                port = urlsplit(edge.url).port
                for headers in ({}, {"Origin": "https://app.example"}):
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    try:
                        connection.request("GET", "/page", headers=headers)
                        response = connection.getresponse()
                        response.read()
                        got = {k.lower(): v for k, v in response.getheaders()}
                    finally:
                        connection.close()
                assert got.get("access-control-allow-origin") == "*"
            finally:
                edge.stop()


class TestLimits:
    def test_a_timeout_is_a_502_and_a_throttle_a_429(self, lam: Any, server: StratoServer) -> None:
        with deployed(lam, "import time\ndef handler(event, context):\n    time.sleep(5)\n", Timeout=1) as name:
            lam.add_permission(FunctionName=name, **PUBLIC)
            url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
            timed_out = call(server, url)
            assert (timed_out.status, timed_out.body) == (502, b"Internal Server Error")
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
            answer = call(server, url)
            assert (answer.status, answer.json()) == (429, {"Message": "Rate Exceeded."})


@pytest.fixture(scope="module")
def impatient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StratoServer]:
    """A server that gives a quiet client half a second (STRATO_REQUEST_TIMEOUT)."""
    running = StratoServer(tmp_path_factory.mktemp("impatient-urls"), env={"STRATO_REQUEST_TIMEOUT": "0.5"}).start()
    yield running
    running.stop()


class TestStalledClients:
    def test_a_body_that_stalls_is_a_408_in_the_urls_own_form(self, impatient: StratoServer) -> None:
        lam = make_client(impatient.url, "lambda")
        with deployed(lam, HANDLER) as name:
            lam.add_permission(FunctionName=name, **PUBLIC)
            url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
            with socket.create_connection(("127.0.0.1", impatient.port), timeout=10) as connection:
                connection.sendall(f"POST /echo HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\n"
                                   "Content-Length: 100\r\n\r\n0123456789".encode())
                answer = read_response(connection)
            assert (answer.status, json.loads(answer.body)) == (408, {"Message": "Request Timeout"})
            assert answer.headers["x-amzn-errortype"] == "RequestTimeoutException"
