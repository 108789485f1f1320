"""Request headers and authentication as conformance suites probe them: digests, lengths and
expectations a client sends, Authorization and Date headers (SigV4 and SigV2), presigned URL
lifetimes, preflight requests and URIs that cannot be parsed."""

from __future__ import annotations

import datetime
import socket
import urllib.error
import urllib.request
import uuid
from email.utils import formatdate
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.e2e.client_errors import error_of
from tests.e2e.test_presigned import presign_v4_at
from tests.e2e.web import get
from tests.servers import ACCESS_KEY, StratoServer, raw_exchange, request_head, sign_v4


def adding(server: StratoServer, operation: str, headers: dict[str, Any], **config: Any) -> Any:
    """A fresh client that adds `headers` to every `operation` request before it is signed."""
    client = make_client(server.url, retries={"max_attempts": 1}, **config)

    def add(params: dict[str, Any], **_: Any) -> None:
        params["headers"].update(headers)

    client.meta.events.register(f"before-call.s3.{operation}", add)
    return client


def fetch(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    return get(url, method=method, headers=headers)[::2]


class TestDigestsAndLengths:
    @pytest.mark.parametrize("md5", ["YWJyYWNhZGFicmE=", ""])
    def test_a_content_md5_that_is_not_an_md5_is_invalid_digest(
        self, server: StratoServer, bucket: str, md5: str
    ) -> None:
        client = adding(server, "PutObject", {"Content-MD5": md5})
        with pytest.raises(ClientError) as caught:
            client.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        assert error_of(caught) == ("InvalidDigest", 400)

    def test_a_content_md5_of_other_bytes_is_bad_digest(self, server: StratoServer, bucket: str) -> None:
        client = adding(server, "PutObject", {"Content-MD5": "rL0Y20xC+Fzt72VPzMSk2A=="})
        with pytest.raises(ClientError) as caught:
            client.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        assert error_of(caught) == ("BadDigest", 400)

    def test_a_sigv2_content_md5_that_is_garbage_is_invalid_digest(self, server: StratoServer, bucket: str) -> None:
        client = adding(server, "PutObject", {"Content-MD5": "AWS HAHAHA"}, signature_version="s3")
        with pytest.raises(ClientError) as caught:
            client.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        assert error_of(caught) == ("InvalidDigest", 400)

    @pytest.mark.parametrize("length", ["", "-1"])
    def test_a_content_length_that_is_not_a_number_is_400(
        self, server: StratoServer, bucket: str, length: str
    ) -> None:
        client = adding(server, "PutObject", {"Content-Length": length})
        with pytest.raises(ClientError) as caught:
            client.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    def test_a_put_without_a_content_length_is_missing_content_length(self, server: StratoServer, bucket: str) -> None:
        head = request_head("PUT", f"/{bucket}/foo", {"Host": f"127.0.0.1:{server.port}"})
        response = raw_exchange(server.port, head)
        assert (response.status, response.code) == (403, "AccessDenied")

    def test_a_body_longer_than_its_content_length_is_answered_before_the_rest_is_refused(
        self, server: StratoServer, bucket: str
    ) -> None:
        md5_of_bar = "N7UdGUp1E+RbVvZSTy1R8g=="
        signed = sign_v4("PUT", f"{server.url}/{bucket}/foo", {"Content-Length": "2", "Content-MD5": md5_of_bar})
        received = b""
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(request_head("PUT", f"/{bucket}/foo", signed.headers) + b"bar")
            while piece := sock.recv(65536):  # the server closes the connection after refusing
                received += piece
        answer, _, refusal = received.partition(b"</Error>")
        assert answer.startswith(b"HTTP/1.1 400 ")
        assert b"<Code>BadDigest</Code>" in answer
        assert refusal.startswith(b"HTTP/1.1 400 ")
        assert b"<Code>BadRequest</Code>" in refusal

    @pytest.mark.parametrize("content_type", ["text/plain", ""])
    def test_any_content_type_is_accepted(self, s3: Any, bucket: str, content_type: str) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar", ContentType=content_type)
        assert s3.get_object(Bucket=bucket, Key="foo")["Body"].read() == b"bar"


class TestExpect:
    @pytest.mark.parametrize("expect", ["200", ""])
    def test_an_expectation_other_than_100_continue_is_ignored_by_writes(
        self, server: StratoServer, bucket: str, expect: str
    ) -> None:
        adding(server, "PutObject", {"Expect": expect}).put_object(Bucket=bucket, Key="foo", Body=b"bar")
        name = f"expect-{uuid.uuid4().hex[:12]}"
        adding(server, "CreateBucket", {"Expect": expect}).create_bucket(Bucket=name)
        assert make_client(server.url).head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200

    def test_an_unauthenticated_put_expecting_100_continue_is_refused_before_the_body(
        self, server: StratoServer, bucket: str
    ) -> None:
        head = request_head("PUT", f"/{bucket}/testobj", {
            "Host": f"127.0.0.1:{server.port}", "Accept-Encoding": "identity", "Content-Length": "123",
            "Expect": "100-continue"})
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(head)
            status_line = sock.recv(1024).split(b"\r\n", 1)[0]
        assert status_line.split(b" ")[1] == b"403"


class TestAuthorization:
    def test_a_request_without_authorization_is_access_denied(self, server: StratoServer) -> None:
        status, body = fetch(f"{server.url}/anything-{uuid.uuid4().hex[:8]}", method="PUT")
        assert status == 403
        assert b"<Code>AccessDenied</Code>" in body

    def test_an_empty_authorization_header_is_access_denied(self, server: StratoServer, bucket: str) -> None:
        head = request_head("PUT", f"/{bucket}/foo", {
            "Host": f"127.0.0.1:{server.port}", "Authorization": "", "Content-Length": "0"})
        response = raw_exchange(server.port, head)
        assert (response.status, response.code) == (403, "AccessDenied")

    def test_a_sigv2_authorization_without_a_signature_is_an_invalid_argument(
        self, server: StratoServer, bucket: str
    ) -> None:
        head = request_head("PUT", f"/{bucket}/foo", {
            "Host": f"127.0.0.1:{server.port}", "Authorization": "AWS HAHAHA", "Content-Length": "0",
            "Date": formatdate(usegmt=True)})
        response = raw_exchange(server.port, head)
        assert (response.status, response.code) == (400, "InvalidArgument")

    @pytest.mark.parametrize("access_key", ["badauth", ACCESS_KEY])
    def test_listing_buckets_with_bad_credentials_is_403(self, server: StratoServer, access_key: str) -> None:
        bad = make_client(server.url, access_key=access_key, secret_key="roflmao", signature_version="s3v4",
                          retries={"max_attempts": 1})
        with pytest.raises(ClientError) as caught:
            bad.list_buckets()
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    def test_both_a_date_and_an_x_amz_date_are_accepted(self, server: StratoServer, bucket: str) -> None:
        date = formatdate(usegmt=True)
        adding(server, "PutObject", {"Date": date}).put_object(Bucket=bucket, Key="foo", Body=b"bar")


class TestSignatureV2Dates:
    @pytest.mark.parametrize(("date", "code"), [
        ("Bad Date", "AccessDenied"),
        ("", "AccessDenied"),
        ("Tue, 07 Jul 1950 21:53:04 GMT", "AccessDenied"),
        ("Tue, 07 Jul 2010 21:53:04 GMT", "RequestTimeTooSkewed"),
        ("Tue, 07 Jul 2030 21:53:04 GMT", "RequestTimeTooSkewed"),
        ("Tue, 07 Jul 9999 21:53:04 GMT", "RequestTimeTooSkewed"),
    ])
    @pytest.mark.parametrize("operation", ["PutObject", "CreateBucket"])
    def test_an_x_amz_date_that_is_not_now_is_refused(
        self, server: StratoServer, bucket: str, date: str, code: str, operation: str
    ) -> None:
        client = adding(server, operation, {"x-amz-date": date}, signature_version="s3")
        if operation == "PutObject":
            with pytest.raises(ClientError) as caught:
                client.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        else:
            with pytest.raises(ClientError) as caught:
                client.create_bucket(Bucket=f"dated-{uuid.uuid4().hex[:12]}")
        assert error_of(caught) == (code, 403)

    def test_an_empty_user_agent_is_fine(self, server: StratoServer, bucket: str) -> None:
        client = adding(server, "PutObject", {"User-Agent": ""}, signature_version="s3")
        client.put_object(Bucket=bucket, Key="foo", Body=b"bar")


class TestPresignedLifetimes:
    def test_a_presigned_get_works_until_it_expires(self, server: StratoServer, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        v4 = make_client(server.url, signature_version="s3v4")
        url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "foo"}, ExpiresIn=100000)
        assert fetch(url) == (200, b"bar")

    def test_a_presigned_url_with_no_lifetime_is_already_expired(
        self, server: StratoServer, s3: Any, bucket: str
    ) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        url = presign_v4_at(f"{server.url}/{bucket}/foo", datetime.datetime.now(datetime.UTC), 0)
        status, body = fetch(url)
        assert status == 403
        assert b"<Code>AccessDenied</Code>" in body

    def test_a_negative_lifetime_is_an_authorization_query_parameters_error(
        self, server: StratoServer, s3: Any, bucket: str
    ) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        url = presign_v4_at(f"{server.url}/{bucket}/foo", datetime.datetime.now(datetime.UTC), -7)
        status, body = fetch(url)
        assert status == 400
        assert b"<Code>AuthorizationQueryParametersError</Code>" in body
        assert b"X-Amz-Expires must be non-negative" in body

    def test_an_expired_presigned_put_is_403_and_stores_nothing(
        self, server: StratoServer, s3: Any, bucket: str
    ) -> None:
        an_hour_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
        url = presign_v4_at(f"{server.url}/{bucket}/foo", an_hour_ago, 1000, "PUT")
        request = urllib.request.Request(url, method="PUT", data=b"foo")
        with pytest.raises(urllib.error.HTTPError) as refused, urllib.request.urlopen(request, timeout=10):
            pass
        with refused.value:
            assert refused.value.code == 403
        assert "Contents" not in s3.list_objects_v2(Bucket=bucket)

    def test_a_presigned_put_may_carry_a_private_acl(self, server: StratoServer, bucket: str) -> None:
        v4 = make_client(server.url, signature_version="s3v4")
        url = v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "foo", "ACL": "private"})
        request = urllib.request.Request(url, method="PUT", data=b"hello world", headers={"x-amz-acl": "private"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        get = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "foo"})
        assert fetch(get) == (200, b"hello world")


class TestPreflight:
    @pytest.mark.parametrize("target", ["object", "bucket"])
    def test_an_options_request_without_an_origin_is_a_bad_request(
        self, server: StratoServer, s3: Any, bucket: str, target: str
    ) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")
        v4 = make_client(server.url, signature_version="s3v4")
        url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "foo"})
        if target == "bucket":
            url = f"{server.url}/{bucket}"
        status, body = fetch(url, method="OPTIONS")
        assert status == 400
        assert b"<Code>BadRequest</Code>" in body

    def test_an_options_request_to_a_bucket_without_cors_is_access_forbidden(
        self, server: StratoServer, bucket: str
    ) -> None:
        status, body = fetch(f"{server.url}/{bucket}/foo", method="OPTIONS",
                             headers={"Origin": "example", "Access-Control-Request-Method": "GET"})
        assert status == 403
        assert b"<Code>AccessForbidden</Code>" in body


class TestUnparsableUris:
    def test_a_path_that_is_not_utf8_is_invalid_uri(self, server: StratoServer, bucket: str) -> None:
        response = raw_exchange(server.port, request_head("GET", f"/{bucket}/%AE%8A-", {
            "Host": f"127.0.0.1:{server.port}"}))
        assert (response.status, response.code) == (400, "InvalidURI")
        assert b"<Message>Couldn't parse the specified URI.</Message>" in response.body
