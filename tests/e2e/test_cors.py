"""Bucket CORS through real clients against a running strato: boto3 and the aws CLI set, read
and delete a configuration; browsers' unsigned preflights (OPTIONS) are answered from its
first matching rule; actual requests from an allowed origin carry the CORS headers, errors too."""

from __future__ import annotations

import base64
import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.e2e.test_awscli import Aws
from tests.e2e.web import get
from tests.servers import StratoServer

UPLOADS = {"ID": "uploads", "AllowedOrigins": ["https://app.example.com", "https://*.example.org"],
           "AllowedMethods": ["PUT", "POST"], "AllowedHeaders": ["content-type", "x-amz-*"],
           "ExposeHeaders": ["ETag", "x-amz-request-id"], "MaxAgeSeconds": 600}
READS = {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"]}


def configure(s3: Any, bucket: str, *rules: dict[str, Any]) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": list(rules)})


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    error = raised.value.response
    return error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"], error["Error"]["Message"]


def presigned(server: StratoServer, operation: str, bucket: str, key: str) -> str:
    """A SigV4 presigned URL, as browser upload apps get them (only the host is signed)."""
    v4 = make_client(server.url, signature_version="s3v4")
    url: str = v4.generate_presigned_url(operation, Params={"Bucket": bucket, "Key": key})
    return url


def preflight(server: StratoServer, path: str, origin: str, method: str,
              headers: str | None = None) -> tuple[int, dict[str, str], bytes]:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        asked["Access-Control-Request-Headers"] = headers
    return get(f"{server.url}{path}", method="OPTIONS", headers=asked)


class TestConfiguration:
    def test_a_configuration_is_put_read_back_and_deleted(self, s3: Any, bucket: str) -> None:
        configure(s3, bucket, UPLOADS, READS)
        assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == [UPLOADS, READS]
        configure(s3, bucket, READS)
        assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == [READS]
        deleted = s3.delete_bucket_cors(Bucket=bucket)
        assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
        with pytest.raises(ClientError) as raised:
            s3.get_bucket_cors(Bucket=bucket)
        assert error_of(raised) == (404, "NoSuchCORSConfiguration", "The CORS configuration does not exist")

    def test_a_missing_bucket_is_no_such_bucket(self, s3: Any) -> None:
        with pytest.raises(ClientError) as raised:
            configure(s3, f"absent-{uuid.uuid4().hex[:16]}", READS)
        assert error_of(raised)[:2] == (404, "NoSuchBucket")

    @pytest.mark.parametrize(("rule", "message"), [
        ({"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]},
         "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"),
        ({"AllowedOrigins": ["https://*.*.example.com"], "AllowedMethods": ["GET"]},
         'AllowedOrigin "https://*.*.example.com" can not have more than one wildcard.'),
        ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["*-*"]},
         'AllowedHeader "*-*" can not have more than one wildcard.'),
    ], ids=["method", "origin-wildcards", "header-wildcards"])
    def test_values_s3_refuses_are_invalid_request(self, s3: Any, bucket: str, rule: dict[str, Any],
                                                   message: str) -> None:
        with pytest.raises(ClientError) as raised:
            configure(s3, bucket, rule)
        assert error_of(raised) == (400, "InvalidRequest", message)

    def test_a_hundred_rules_fit_and_a_hundred_and_one_do_not(self, s3: Any, bucket: str) -> None:
        configure(s3, bucket, *[READS] * 100)
        with pytest.raises(ClientError) as raised:
            configure(s3, bucket, *[READS] * 101)
        assert error_of(raised)[:2] == (400, "MalformedXML")
        assert len(s3.get_bucket_cors(Bucket=bucket)["CORSRules"]) == 100


class TestRawBodies:
    def put_raw(self, s3: Any, bucket: str, body: bytes, *, digest: bool = True) -> None:
        def send_raw(request: Any, **_: Any) -> None:
            request.data = body
            for name in [h for h in request.headers if h.lower().startswith(("x-amz-checksum", "content-"))]:
                del request.headers[name]
            request.headers["Content-Length"] = str(len(body))
            if digest:
                request.headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()

        s3.meta.events.register_first("before-sign.s3.PutBucketCors", send_raw)
        try:
            configure(s3, bucket, READS)
        finally:
            s3.meta.events.unregister("before-sign.s3.PutBucketCors", send_raw)

    def test_a_body_without_content_md5_is_refused(self, s3: Any, bucket: str) -> None:
        body = (b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod>"
                b"<AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>")
        with pytest.raises(ClientError) as raised:
            self.put_raw(s3, bucket, body, digest=False)
        assert error_of(raised) == (400, "InvalidRequest", "Missing required header for this request: Content-MD5")
        self.put_raw(s3, bucket, body)
        assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]

    @pytest.mark.parametrize("body", [
        b"<CORSConfiguration></CORSConfiguration>",
        b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>",
        b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
        b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>"
        b"<MaxAgeSeconds>soon</MaxAgeSeconds></CORSRule></CORSConfiguration>",
        b"<Other/>",
        b"<CORSConfiguration><CORSRule>",
    ], ids=["no-rule", "no-method", "no-origin", "max-age", "wrong-root", "unclosed"])
    def test_a_body_that_is_not_a_configuration_is_malformed_xml(self, s3: Any, bucket: str, body: bytes) -> None:
        with pytest.raises(ClientError) as raised:
            self.put_raw(s3, bucket, body)
        assert error_of(raised)[:2] == (400, "MalformedXML")


class TestPreflight:
    def test_the_first_matching_rule_answers_without_a_signature(
        self, server: StratoServer, s3: Any, bucket: str
    ) -> None:
        configure(s3, bucket, UPLOADS, READS)
        status, headers, _ = preflight(server, f"/{bucket}/photo.jpg", "https://app.example.com", "PUT",
                                       "Content-Type, X-Amz-Meta-Title")
        assert status == 200
        assert headers["access-control-allow-origin"] == "https://app.example.com"
        assert headers["access-control-allow-methods"] == "PUT, POST"
        assert headers["access-control-allow-headers"] == "content-type, x-amz-meta-title"
        assert headers["access-control-expose-headers"] == "ETag, x-amz-request-id"
        assert headers["access-control-max-age"] == "600"
        assert headers["access-control-allow-credentials"] == "true"
        assert headers["vary"] == "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

    def test_a_wildcard_origin_is_answered_with_a_star_and_no_credentials(
        self, server: StratoServer, s3: Any, bucket: str
    ) -> None:
        configure(s3, bucket, UPLOADS, READS)
        status, headers, _ = preflight(server, f"/{bucket}", "https://anyone.test", "GET")
        assert status == 200
        assert headers["access-control-allow-origin"] == "*"
        assert headers["access-control-allow-methods"] == "GET, HEAD"
        assert "access-control-allow-credentials" not in headers

    def test_an_origin_wildcard_matches_within_the_origin(self, server: StratoServer, s3: Any, bucket: str) -> None:
        configure(s3, bucket, UPLOADS)
        assert preflight(server, f"/{bucket}/k", "https://cdn.example.org", "POST")[0] == 200
        assert preflight(server, f"/{bucket}/k", "http://cdn.example.org", "POST")[0] == 403

    @pytest.mark.parametrize(("origin", "method", "headers"), [
        ("https://evil.test", "PUT", None),
        ("https://app.example.com", "DELETE", None),
        ("https://app.example.com", "PUT", "authorization"),
    ], ids=["origin", "method", "header"])
    def test_a_request_no_rule_allows_is_access_forbidden(
        self, server: StratoServer, s3: Any, bucket: str, origin: str, method: str, headers: str | None
    ) -> None:
        configure(s3, bucket, UPLOADS)
        status, answer, body = preflight(server, f"/{bucket}/k", origin, method, headers)
        assert status == 403
        assert "access-control-allow-origin" not in answer
        assert b"<Code>AccessForbidden</Code>" in body
        assert b"<Message>CORSResponse: This CORS request is not allowed." in body
        assert f"<Method>{method}</Method><ResourceType>OBJECT</ResourceType>".encode() in body

    def test_a_bucket_without_cors_refuses_every_preflight(self, server: StratoServer, bucket: str) -> None:
        status, _, body = preflight(server, f"/{bucket}", "https://app.example.com", "GET")
        assert status == 403
        assert b"<Message>CORSResponse: CORS is not enabled for this bucket.</Message>" in body
        assert b"<ResourceType>BUCKET</ResourceType>" in body

    def test_a_preflight_without_a_requested_method_is_a_bad_request(
        self, server: StratoServer, s3: Any, bucket: str
    ) -> None:
        configure(s3, bucket, READS)
        status, _, body = get(f"{server.url}/{bucket}/k", method="OPTIONS", headers={"Origin": "https://a.test"})
        assert status == 400
        assert b"<Code>BadRequest</Code>" in body


class TestActualRequests:
    def test_a_presigned_get_from_an_allowed_origin_carries_the_cors_headers(
        self, server: StratoServer, s3: Any, bucket: str
    ) -> None:
        configure(s3, bucket, UPLOADS, READS)
        s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
        url = presigned(server, "get_object", bucket, "k")
        status, headers, body = get(url, headers={"Origin": "https://anyone.test"})
        assert (status, body) == (200, b"hello")
        assert headers["access-control-allow-origin"] == "*"
        assert headers["vary"] == "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

    def test_a_presigned_put_from_a_named_origin_exposes_its_headers(
        self, server: StratoServer, s3: Any, bucket: str
    ) -> None:
        configure(s3, bucket, UPLOADS)
        url = presigned(server, "put_object", bucket, "up")
        status, headers, _ = get(url, method="PUT", body=b"data", headers={"Origin": "https://app.example.com"})
        assert status == 200
        assert headers["access-control-allow-origin"] == "https://app.example.com"
        assert headers["access-control-allow-credentials"] == "true"
        assert headers["access-control-expose-headers"] == "ETag, x-amz-request-id"
        assert s3.get_object(Bucket=bucket, Key="up")["Body"].read() == b"data"

    def test_an_error_from_an_allowed_origin_carries_them_too(
        self, server: StratoServer, s3: Any, bucket: str
    ) -> None:
        configure(s3, bucket, READS)
        status, headers, body = get(f"{server.url}/{bucket}/missing", headers={"Origin": "https://a.test"})
        assert status == 403
        assert b"<Code>AccessDenied</Code>" in body
        assert headers["access-control-allow-origin"] == "*"

    def test_requests_without_an_allowed_origin_get_no_cors_headers(
        self, server: StratoServer, s3: Any, bucket: str
    ) -> None:
        configure(s3, bucket, UPLOADS)
        s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
        url = presigned(server, "get_object", bucket, "k")
        for origin in ({"Origin": "https://app.example.com"}, {"Origin": "https://evil.test"}, {}):
            status, headers, _ = get(url, headers=origin)
            assert status == 200
            assert "access-control-allow-origin" not in headers


def test_the_aws_cli_sets_reads_and_deletes_cors(server: StratoServer, bucket: str, tmp_path: Path) -> None:
    aws = Aws(server, tmp_path / "home")
    aws("s3api", "put-bucket-cors", "--bucket", bucket, "--cors-configuration",
        '{"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}')
    assert aws.json("s3api", "get-bucket-cors", "--bucket", bucket)["CORSRules"] == [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]
    aws("s3api", "delete-bucket-cors", "--bucket", bucket)
    missing = aws("s3api", "get-bucket-cors", "--bucket", bucket, check=False)
    assert missing.returncode != 0
    assert "NoSuchCORSConfiguration" in missing.stderr
