"""Authentication: who may do what, proven with real clients and hand-built signed requests."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

import pytest
from botocore.auth import HmacV1Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.servers import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    RawResponse,
    StratoServer,
    raw_exchange,
    request_head,
    sign_v4,
)

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def client_with(server: StratoServer, access_key: str, secret_key: str, **config: Any) -> Any:
    return make_client(server.url, access_key=access_key, secret_key=secret_key, retries={"max_attempts": 1},
                       **config)


# -- who is asking ------------------------------------------------------------------------


def test_a_wrong_secret_is_signature_does_not_match(server: StratoServer, bucket: str) -> None:
    intruder = client_with(server, ACCESS_KEY, SECRET_KEY + "x")
    with pytest.raises(ClientError) as raised:
        intruder.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert error_of(raised) == (403, "SignatureDoesNotMatch")
    with pytest.raises(ClientError) as raised:
        intruder.list_objects_v2(Bucket=bucket)
    assert error_of(raised) == (403, "SignatureDoesNotMatch")


def _signed_with(secret: str, string_to_sign: str, v2: bool = False) -> str:
    if v2:
        return base64.b64encode(hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()).decode()
    date, region, service = string_to_sign.split("\n")[2].split("/")[:3]
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def test_a_signature_mismatch_shows_what_the_server_signed(server: StratoServer, bucket: str) -> None:
    """As S3 does, so that a client's author can compare: the canonical request and string to
    sign are the client's own (its wrong key, applied to them, gives the signature it sent)."""
    wrong = SECRET_KEY + "x"
    with pytest.raises(ClientError) as raised:
        client_with(server, ACCESS_KEY, wrong).list_objects_v2(Bucket=bucket, Prefix="a b")
    error = raised.value.response["Error"]
    assert error["Code"] == "SignatureDoesNotMatch"
    assert error["AWSAccessKeyId"] == ACCESS_KEY
    canonical, signed = error["CanonicalRequest"], error["StringToSign"]
    assert canonical.startswith(f"GET\n/{bucket}\n")
    assert signed.split("\n")[0] == "AWS4-HMAC-SHA256"
    assert signed.split("\n")[-1] == hashlib.sha256(canonical.encode()).hexdigest()
    assert bytes.fromhex(error["CanonicalRequestBytes"]) == canonical.encode()
    assert bytes.fromhex(error["StringToSignBytes"]) == signed.encode()
    assert _signed_with(wrong, signed) == error["SignatureProvided"]


def test_a_signature_v2_mismatch_shows_the_string_to_sign(server: StratoServer, bucket: str) -> None:
    wrong = "not-the-secret"
    with pytest.raises(ClientError) as raised:
        client_with(server, ACCESS_KEY, wrong, signature_version="s3").put_object(Bucket=bucket, Key="k", Body=b"x")
    error = raised.value.response["Error"]
    assert (error["Code"], error["AWSAccessKeyId"]) == ("SignatureDoesNotMatch", ACCESS_KEY)
    assert _signed_with(wrong, error["StringToSign"], v2=True) == error["SignatureProvided"]


@pytest.mark.parametrize(("service", "status", "call"), [
    ("lambda", 403, lambda client: client.get_function(FunctionName="anything")),
    ("logs", 400, lambda client: client.describe_log_groups(logGroupNamePrefix="anything")),
], ids=["lambda", "logs"])
def test_a_json_services_signature_mismatch_names_the_canonical_request_in_its_message(
    server: StratoServer, service: str, status: int, call: Any,
) -> None:
    """Lambda and CloudWatch Logs word it in the message, as AWS's JSON services do."""
    intruder = make_client(server.url, service, secret_key=SECRET_KEY + "x", retries={"max_attempts": 1})
    with pytest.raises(ClientError) as raised:
        call(intruder)
    assert error_of(raised) == (status, "InvalidSignatureException")
    message = raised.value.response["Error"]["Message"]
    assert message.startswith("The request signature we calculated does not match the signature you provided. "
                              "Check your AWS Secret Access Key and signing method.")
    assert "\n\nThe Canonical String for this request should have been\n'" in message
    assert "\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n" in message


def test_a_lambda_url_presigned_by_boto3_works_for_its_own_request_only(server: StratoServer) -> None:
    """botocore presigns every service but S3 over the body's SHA-256 (the empty one's for a GET)."""
    client = make_client(server.url, "lambda")
    url = client.generate_presigned_url("list_functions", ExpiresIn=60)
    with urllib.request.urlopen(url) as answer:
        assert "Functions" in json.loads(answer.read())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(url, data=b'{"smuggled": true}', method="GET"))
    with refused.value as error:
        assert (error.code, error.headers["x-amzn-errortype"]) == (403, "InvalidSignatureException")


@pytest.mark.parametrize(("service", "method", "path", "headers", "code"), [
    ("lambda", "POST", "/2015-03-31/functions/f/invocations", "", b"UnrecognizedClientException"),
    ("logs", "POST", "/", "X-Amz-Target: Logs_20140328.DescribeLogGroups\r\n", b"UnrecognizedClientException"),
    ("cloudfront", "POST", "/2020-05-31/distribution", "", b"InvalidClientTokenId"),
])
def test_a_key_no_one_knows_is_refused_before_the_body_is_read(
    server: StratoServer, service: str, method: str, path: str, headers: str, code: bytes,
) -> None:
    """The services that sign their body answer from the request's head: the refusal comes while
    the announced body has not even started (Lambda's other operations: test_lambda_control).
    An Invoke, which the server reads whole ahead of the app when a known key signed it, too."""
    netloc = server.url.removeprefix("http://")
    host, port = netloc.rsplit(":", 1)
    authorization = (f"AWS4-HMAC-SHA256 Credential=NOSUCHKEY00000000000/20260101/{REGION}/{service}/aws4_request, "
                     f"SignedHeaders=host, Signature={'0' * 64}")
    head = (f"{method} {path} HTTP/1.1\r\nHost: {netloc}\r\nContent-Length: 5000000\r\n{headers}"
            f"Authorization: {authorization}\r\n\r\n")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode())
        answer = sock.recv(65536)
        answer += sock.recv(65536) if answer.endswith(b"\r\n\r\n") else b""  # the body in a second write
    assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 403 ")), answer[:200]
    assert code in answer, answer


def test_an_unknown_access_key_is_invalid_access_key_id(server: StratoServer, bucket: str) -> None:
    stranger = client_with(server, "AKIANOTAKNOWNKEY0000", SECRET_KEY)
    with pytest.raises(ClientError) as raised:
        stranger.get_object(Bucket=bucket, Key="k")
    assert error_of(raised) == (403, "InvalidAccessKeyId")


@pytest.mark.parametrize("path", ["/", "/{bucket}", "/{bucket}/secret.txt", "/{bucket}?list-type=2"])
def test_an_anonymous_request_is_access_denied_in_xml(
    s3: Any, server: StratoServer, bucket: str, path: str
) -> None:
    s3.put_object(Bucket=bucket, Key="secret.txt", Body=b"classified")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(server.url + path.format(bucket=bucket), timeout=10)
    with raised.value as response:
        assert response.status == 403
        assert response.headers["Content-Type"] == "application/xml"
        body = response.read()
    assert b"<Code>AccessDenied</Code>" in body
    assert b"classified" not in body


def test_an_anonymous_put_stores_nothing(s3: Any, server: StratoServer, bucket: str) -> None:
    request = urllib.request.Request(f"{server.url}/{bucket}/dropped", data=b"x", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 403
    raised.value.close()
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_signature_v2_headers_work_for_put_get_and_list(server: StratoServer, bucket: str) -> None:
    v2 = make_client(server.url, signature_version="s3")
    v2.put_object(Bucket=bucket, Key="dir/v2 object.txt", Body=b"signed the old way",
                  ContentType="text/plain", Metadata={"colour": "blue"})
    got = v2.get_object(Bucket=bucket, Key="dir/v2 object.txt")
    assert got["Body"].read() == b"signed the old way"
    assert got["Metadata"] == {"colour": "blue"}
    listed = v2.list_objects(Bucket=bucket, Prefix="dir/")
    assert [item["Key"] for item in listed["Contents"]] == ["dir/v2 object.txt"]
    assert v2.list_objects_v2(Bucket=bucket)["KeyCount"] == 1


def test_signature_v2_headers_work_for_bucket_operations(server: StratoServer) -> None:
    # botocore signs path-style bucket requests (`/bucket`) with the resource `/bucket/`.
    v2 = make_client(server.url, signature_version="s3")
    name = f"v2-{uuid.uuid4().hex[:16]}"
    v2.create_bucket(Bucket=name)
    v2.head_bucket(Bucket=name)
    v2.put_object(Bucket=name, Key="a", Body=b"a")
    deleted = v2.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "a"}]})
    assert [item["Key"] for item in deleted["Deleted"]] == ["a"]
    assert v2.list_objects(Bucket=name).get("Contents") is None
    v2.delete_bucket(Bucket=name)
    assert name not in [b["Name"] for b in v2.list_buckets()["Buckets"]]


def test_signature_v2_with_a_wrong_secret_is_refused(server: StratoServer, bucket: str) -> None:
    intruder = client_with(server, ACCESS_KEY, "not-the-secret", signature_version="s3")
    with pytest.raises(ClientError) as raised:
        intruder.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert error_of(raised) == (403, "SignatureDoesNotMatch")


# -- when ---------------------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [-20, 20], ids=["20-minutes-late", "20-minutes-early"])
def test_a_sigv4_request_time_20_minutes_off_is_request_time_too_skewed(
    server: StratoServer, bucket: str, minutes: int
) -> None:
    when = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=minutes)
    signed = sign_v4("GET", f"{server.url}/{bucket}?list-type=2", when=when)
    response = raw_exchange(server.port, request_head("GET", f"/{bucket}?list-type=2", signed.headers))
    assert (response.status, response.code) == (403, "RequestTimeTooSkewed")


def test_a_sigv4_request_time_a_minute_off_is_accepted(server: StratoServer, bucket: str) -> None:
    when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
    signed = sign_v4("GET", f"{server.url}/{bucket}?list-type=2", when=when)
    response = raw_exchange(server.port, request_head("GET", f"/{bucket}?list-type=2", signed.headers))
    assert response.status == 200, response


class _LateHmacV1Auth(HmacV1Auth):  # type: ignore[misc]
    """botocore's SigV2 header signer, with a Date header 20 minutes in the past."""

    def _get_date(self) -> str:
        return formatdate(datetime.datetime.now(datetime.UTC).timestamp() - 20 * 60, usegmt=True)


def test_a_sigv2_request_time_20_minutes_off_is_request_time_too_skewed(
    server: StratoServer, bucket: str
) -> None:
    request = AWSRequest(method="GET", url=f"{server.url}/{bucket}")
    _LateHmacV1Auth(Credentials(ACCESS_KEY, SECRET_KEY)).add_auth(request)
    headers = {"Host": f"127.0.0.1:{server.port}", **dict(request.headers.items())}
    assert headers["Authorization"].startswith(f"AWS {ACCESS_KEY}:")
    response = raw_exchange(server.port, request_head("GET", f"/{bucket}", headers))
    assert (response.status, response.code) == (403, "RequestTimeTooSkewed")


# -- what was signed is what arrives ------------------------------------------------------


def test_a_body_that_differs_from_its_signed_sha256_is_refused_and_not_stored(
    s3: Any, server: StratoServer, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="doc", Body=b"original")
    promised, sent = b"the body that was signed", b"the body that was SENT!!"
    assert len(promised) == len(sent)
    signed = sign_v4("PUT", f"{server.url}/{bucket}/doc", {"Content-Length": str(len(sent))},
                     payload_hash=hashlib.sha256(promised).hexdigest())
    response = raw_exchange(server.port, request_head("PUT", f"/{bucket}/doc", signed.headers) + sent)
    assert (response.status, response.code) == (400, "XAmzContentSHA256Mismatch")
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"original"


def test_a_body_that_matches_its_signed_sha256_is_stored(s3: Any, server: StratoServer, bucket: str) -> None:
    body = b"signed payload" * 10_000
    signed = sign_v4("PUT", f"{server.url}/{bucket}/doc", {"Content-Length": str(len(body))},
                     payload_hash=hashlib.sha256(body).hexdigest())
    response = raw_exchange(server.port, request_head("PUT", f"/{bucket}/doc", signed.headers) + body)
    assert response.status == 200, response
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == body


def test_unsigned_aws_chunked_headers_cannot_smuggle_a_body_past_its_signed_sha256(
    s3: Any, server: StratoServer, bucket: str
) -> None:
    # The client signed the hash of its body but not Content-Encoding or Content-Length; a
    # man in the middle adds them and swaps in an aws-chunked body of its own.
    s3.put_object(Bucket=bucket, Key="doc", Body=b"original")
    honest = b"the honest body"
    signed = sign_v4("PUT", f"{server.url}/{bucket}/doc", payload_hash=hashlib.sha256(honest).hexdigest())
    forged = b"forged!"
    body = f"{len(forged):x}\r\n".encode() + forged + b"\r\n0\r\n\r\n"
    headers = {**signed.headers, "Content-Length": str(len(body)), "Content-Encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(len(forged))}
    response = raw_exchange(server.port, request_head("PUT", f"/{bucket}/doc", headers) + body)
    assert (response.status, response.code) == (400, "XAmzContentSHA256Mismatch")
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"original"


def test_a_signed_header_changed_after_signing_is_signature_does_not_match(
    s3: Any, server: StratoServer, bucket: str
) -> None:
    headers = {"Content-Length": "1", "Content-Type": "text/plain"}
    signed = sign_v4("PUT", f"{server.url}/{bucket}/typed", headers)
    tampered = {**signed.headers, "Content-Type": "text/html"}
    response = raw_exchange(server.port, request_head("PUT", f"/{bucket}/typed", tampered) + b"x")
    assert (response.status, response.code) == (403, "SignatureDoesNotMatch")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def _signing_key(date: str) -> bytes:
    """The SigV4 signing key, derived here independently of strato's code."""
    key = hmac.digest(f"AWS4{SECRET_KEY}".encode(), date.encode(), "sha256")
    for part in (REGION, "s3", "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


def _aws_chunked(
    server: StratoServer, path: str, chunks: list[bytes], corrupt: int | None = None
) -> RawResponse:
    """PUT `chunks` as a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body, each chunk signed in the
    chain; with `corrupt`, that chunk's bytes are altered after it was signed."""
    framed_sizes = [len(f"{len(c):x};chunk-signature={'0' * 64}\r\n") + len(c) + 2 for c in [*chunks, b""]]
    decoded = sum(len(c) for c in chunks)
    signed = sign_v4(
        "PUT", server.url + path,
        {"Content-Length": str(sum(framed_sizes)), "Content-Encoding": "aws-chunked",
         "x-amz-decoded-content-length": str(decoded)},
        payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    )
    date = signed.amz_date
    scope = f"{date[:8]}/{REGION}/s3/aws4_request"
    key = _signing_key(date[:8])
    previous = signed.signature
    body = b""
    for index, chunk in enumerate([*chunks, b""]):
        text = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", date, scope, previous, EMPTY_SHA256,
                          hashlib.sha256(chunk).hexdigest()])
        previous = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        if index == corrupt:
            chunk = bytes([chunk[0] ^ 0x01]) + chunk[1:]
        body += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + chunk + b"\r\n"
    return raw_exchange(server.port, request_head("PUT", path, signed.headers) + body)


def test_a_signed_aws_chunked_body_is_accepted(s3: Any, server: StratoServer, bucket: str) -> None:
    chunks = [b"a" * 65536, b"b" * 65536, b"tail"]
    response = _aws_chunked(server, f"/{bucket}/chunked", chunks)
    assert response.status == 200, response
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == b"".join(chunks)


@pytest.mark.parametrize("corrupt", [0, 1, 2], ids=["first-chunk", "middle-chunk", "last-chunk"])
def test_a_corrupted_signed_chunk_is_signature_does_not_match_and_the_old_object_stays(
    s3: Any, server: StratoServer, bucket: str, corrupt: int
) -> None:
    s3.put_object(Bucket=bucket, Key="chunked", Body=b"previous version")
    s3.put_object(Bucket=bucket, Key="unrelated", Body=b"x")
    chunks = [b"a" * 65536, b"b" * 70000, b"tail"]
    response = _aws_chunked(server, f"/{bucket}/chunked", chunks, corrupt=corrupt)
    assert (response.status, response.code) == (403, "SignatureDoesNotMatch")
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == b"previous version"
    response = _aws_chunked(server, f"/{bucket}/fresh", [b"z" * 70000, b"tail"], corrupt=corrupt % 2)
    assert (response.status, response.code) == (403, "SignatureDoesNotMatch")
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(item["Key"] for item in listed) == ["chunked", "unrelated"]


# -- virtual-hosted-style addressing ------------------------------------------------------


@pytest.fixture(scope="module")
def vhost_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StratoServer]:
    server = StratoServer(tmp_path_factory.mktemp("vhost"), "--domain", "localhost").start()
    yield server
    server.stop()


def test_virtual_hosted_style_requests_from_boto3_reach_the_named_bucket(vhost_server: StratoServer) -> None:
    # `bucket.localhost` does not resolve here, so boto3 reaches it through strato as its HTTP
    # proxy: the request carries `Host: bucket.localhost:port` exactly as with real DNS.
    virtual = make_client(f"http://localhost:{vhost_server.port}", s3={"addressing_style": "virtual"},
                          proxies={"http": vhost_server.url})
    name = f"vhost-{uuid.uuid4().hex[:12]}"
    virtual.create_bucket(Bucket=name)
    virtual.put_object(Bucket=name, Key="dir/a key.txt", Body=b"by host name")
    assert virtual.get_object(Bucket=name, Key="dir/a key.txt")["Body"].read() == b"by host name"
    assert [item["Key"] for item in virtual.list_objects_v2(Bucket=name)["Contents"]] == ["dir/a key.txt"]
    path_style = make_client(vhost_server.url)
    assert path_style.get_object(Bucket=name, Key="dir/a key.txt")["Body"].read() == b"by host name"


def test_a_virtual_hosted_style_request_with_a_host_header_names_the_bucket(
    vhost_server: StratoServer,
) -> None:
    path_style = make_client(vhost_server.url)
    name = f"vhost-{uuid.uuid4().hex[:12]}"
    path_style.create_bucket(Bucket=name)
    path_style.put_object(Bucket=name, Key="k.txt", Body=b"from the host header")
    signed = sign_v4("GET", f"http://{name}.localhost:{vhost_server.port}/k.txt")
    assert signed.headers["Host"] == f"{name}.localhost:{vhost_server.port}"
    response = raw_exchange(vhost_server.port, request_head("GET", "/k.txt", signed.headers))
    assert response.status == 200, response
    assert response.body == b"from the host header"
    signed = sign_v4("GET", f"http://{name}.localhost:{vhost_server.port}/?list-type=2")
    listing = raw_exchange(vhost_server.port, request_head("GET", "/?list-type=2", signed.headers))
    assert listing.status == 200, listing
    assert b"<Key>k.txt</Key>" in listing.body
