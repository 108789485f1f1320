"""Presigned URLs: made by boto3 (SigV2 by default for a custom us-east-1 endpoint, SigV4 when
asked), fetched by a client that knows nothing of AWS (urllib)."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from botocore.auth import SIGV4_TIMESTAMP, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import make_client
from tests.e2e.web import get
from tests.servers import ACCESS_KEY, REGION, SECRET_KEY, StratoServer


@pytest.fixture(scope="module")
def v4(server: StratoServer) -> Any:
    return make_client(server.url, signature_version="s3v4")


def field_of(body: bytes, name: str) -> str:
    return body.split(f"<{name}>".encode(), 1)[1].split(f"</{name}>".encode(), 1)[0].decode()


def code_of(body: bytes) -> str:
    return body.split(b"<Code>", 1)[1].split(b"</Code>", 1)[0].decode() if b"<Code>" in body else ""


class _SigV4QueryAuthAt(S3SigV4QueryAuth):  # type: ignore[misc]
    """botocore's SigV4 presigner, with the signing time chosen by the test."""

    def __init__(self, when: datetime.datetime, expires: int) -> None:
        super().__init__(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION, expires=expires)
        self.when = when

    def add_auth(self, request: Any) -> None:
        request.context["timestamp"] = self.when.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        signature = self.signature(self.string_to_sign(request, canonical), request)
        self._inject_signature_to_request(request, signature)


def presign_v4_at(url: str, when: datetime.datetime, expires: int, method: str = "GET") -> str:
    request = AWSRequest(method=method, url=url)
    _SigV4QueryAuthAt(when, expires).add_auth(request)
    presigned: str = request.url
    return presigned


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


# -- GET ------------------------------------------------------------------------------------


def test_boto3s_default_presigned_get_is_sigv2_and_works(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="dir/report 2026.txt", Body=b"presigned v2", ContentType="text/plain")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dir/report 2026.txt"})
    assert {"AWSAccessKeyId", "Signature", "Expires"} <= set(parse_qs(urlsplit(url).query))
    status, headers, body = get(url)
    assert (status, body) == (200, b"presigned v2")
    assert headers["content-type"] == "text/plain"


def test_a_sigv4_presigned_get_works(s3: Any, v4: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="ünïcode/key+plus=eq.bin", Body=b"presigned v4")
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "ünïcode/key+plus=eq.bin"})
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert get(url)[::2] == (200, b"presigned v4")


@pytest.mark.parametrize("signature_version", ["s3", "s3v4"])
def test_a_presigned_get_can_override_response_headers(server: StratoServer, bucket: str,
                                                       signature_version: str) -> None:
    client = make_client(server.url, signature_version=signature_version)
    client.put_object(Bucket=bucket, Key="data.csv", Body=b"a,b\n")
    url = client.generate_presigned_url("get_object", Params={
        "Bucket": bucket, "Key": "data.csv", "ResponseContentType": "text/csv",
        "ResponseContentDisposition": 'attachment; filename="data.csv"',
    })
    status, headers, body = get(url)
    assert (status, body) == (200, b"a,b\n")
    assert headers["content-type"] == "text/csv"
    assert headers["content-disposition"] == 'attachment; filename="data.csv"'


def test_a_presigned_head_and_range_get_work(s3: Any, v4: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"0123456789")
    head = v4.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": "k"})
    status, headers, _ = get(head, method="HEAD")
    assert (status, headers["content-length"]) == (200, "10")
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    assert get(url, headers={"Range": "bytes=2-4"})[::2] == (206, b"234")


def test_a_presigned_bucket_listing_works(s3: Any, v4: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="listed", Body=b"x")
    for client in (s3, v4):
        status, _, body = get(client.generate_presigned_url("list_objects_v2", Params={"Bucket": bucket}))
        assert status == 200, body
        assert b"<Key>listed</Key>" in body


# -- PUT ------------------------------------------------------------------------------------


@pytest.mark.parametrize("signature_version", ["s3", "s3v4"])
def test_a_presigned_put_uploads_with_plain_urllib(server: StratoServer, bucket: str,
                                                   signature_version: str) -> None:
    # SigV2 signs the Content-Type, so the URL names the one the uploader will send (urllib
    # would otherwise send application/x-www-form-urlencoded).
    client = make_client(server.url, signature_version=signature_version)
    binary = "application/octet-stream"
    url = client.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "uploaded.bin", "ContentType": binary}
    )
    body = bytes(range(256)) * 4096
    status, headers, _ = get(url, method="PUT", body=body, headers={"Content-Type": binary})
    assert status == 200
    got = client.get_object(Bucket=bucket, Key="uploaded.bin")
    assert got["Body"].read() == body
    assert got["ETag"] == headers["etag"]
    assert got["ContentType"] == binary


def test_metadata_a_presigned_put_carries_in_its_url_is_stored(s3: Any, bucket: str) -> None:
    """boto3's SigV2 presigner moves x-amz-meta-* into the query string (and signs it there);
    the uploader sends no such header."""
    client = s3
    binary = "application/octet-stream"
    url = client.generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket, "Key": "tagged.bin", "ContentType": binary, "Metadata": {"colour": "blue"}},
    )
    assert "x-amz-meta-colour=blue" in url
    assert get(url, method="PUT", body=b"painted", headers={"Content-Type": binary})[0] == 200
    assert client.head_object(Bucket=bucket, Key="tagged.bin")["Metadata"] == {"colour": "blue"}


def test_a_sigv4_presigned_put_takes_whatever_content_type_was_not_signed(v4: Any, bucket: str) -> None:
    url = v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "form.bin"})
    assert get(url, method="PUT", body=b"urllib's default content type")[0] == 200
    assert v4.get_object(Bucket=bucket, Key="form.bin")["Body"].read() == b"urllib's default content type"


def test_a_presigned_put_with_a_signed_content_type_needs_that_content_type(v4: Any, bucket: str) -> None:
    url = v4.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "typed.json", "ContentType": "application/json"}
    )
    refused = get(url, method="PUT", body=b"{}", headers={"Content-Type": "text/html"})
    assert (refused[0], code_of(refused[2])) == (403, "SignatureDoesNotMatch")
    assert get(url, method="PUT", body=b"{}", headers={"Content-Type": "application/json"})[0] == 200
    assert v4.head_object(Bucket=bucket, Key="typed.json")["ContentType"] == "application/json"


def test_a_presigned_get_url_cannot_be_used_to_put(s3: Any, v4: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"original")
    for client in (s3, v4):
        url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
        status, _, body = get(url, method="PUT", body=b"overwritten")
        assert (status, code_of(body)) == (403, "SignatureDoesNotMatch")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"original"


# -- refusals -------------------------------------------------------------------------------


def test_an_expired_sigv2_url_is_access_denied(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=-60)
    status, _, body = get(url)
    assert (status, code_of(body)) == (403, "AccessDenied")
    assert b"secret" not in body
    expires = int(parse_qs(urlsplit(url).query)["Expires"][0])
    assert field_of(body, "Expires") == datetime.datetime.fromtimestamp(expires, datetime.UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    assert field_of(body, "ServerTime") > field_of(body, "Expires")


def test_an_expired_sigv4_url_is_access_denied(server: StratoServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    signed = now().replace(microsecond=0) - datetime.timedelta(hours=2)
    url = presign_v4_at(f"{server.url}/{bucket}/k", signed, expires=3600)
    status, _, body = get(url)
    assert (status, code_of(body)) == (403, "AccessDenied")
    assert b"secret" not in body
    # As S3 says when: the URL's lifetime, when it ran out, the server's time.
    assert field_of(body, "Message") == "Request has expired"
    assert field_of(body, "X-Amz-Expires") == "3600"
    assert field_of(body, "Expires") == (signed + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    server_time = datetime.datetime.strptime(field_of(body, "ServerTime"), "%Y-%m-%dT%H:%M:%SZ")
    assert abs(server_time.replace(tzinfo=datetime.UTC) - now()) < datetime.timedelta(minutes=5)
    # The same construction, still within its lifetime, is accepted.
    fresh = presign_v4_at(f"{server.url}/{bucket}/k", now() - datetime.timedelta(minutes=30), expires=3600)
    assert get(fresh)[::2] == (200, b"secret")


def test_a_sigv4_url_signed_in_the_future_is_not_valid_yet(
    server: StratoServer, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    url = presign_v4_at(f"{server.url}/{bucket}/k", now() + datetime.timedelta(hours=1), expires=3600)
    status, _, body = get(url)
    assert (status, code_of(body)) == (403, "AccessDenied")


def _swap_key(url: str, old: str, new: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path=parts.path.replace(old, new)).geturl()


@pytest.mark.parametrize("signature_version", ["s3", "s3v4"])
def test_a_tampered_url_is_signature_does_not_match(server: StratoServer, s3: Any, bucket: str,
                                                    signature_version: str) -> None:
    s3.put_object(Bucket=bucket, Key="public.txt", Body=b"public")
    s3.put_object(Bucket=bucket, Key="private.txt", Body=b"TOP-SECRET")
    client = make_client(server.url, signature_version=signature_version)
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "public.txt"})
    assert get(url)[::2] == (200, b"public")
    query = parse_qs(urlsplit(url).query)
    signature_name = "Signature" if signature_version == "s3" else "X-Amz-Signature"
    signature = query[signature_name][0]
    forged = ("B" if signature[0] == "A" else "A") + signature[1:]
    if signature_version == "s3":
        expires = query["Expires"][0]
        longer = url.replace(f"Expires={expires}", f"Expires={int(expires) + 3600}")
    else:
        longer = url.replace("X-Amz-Expires=3600", "X-Amz-Expires=7200")
    tampered = [
        _swap_key(url, "public.txt", "private.txt"),
        longer,
        url.replace(f"={quote(signature, safe='')}", f"={quote(forged, safe='')}"),
    ]
    assert all(candidate != url for candidate in tampered)
    for candidate in tampered:
        status, _, body = get(candidate)
        assert (status, code_of(body)) == (403, "SignatureDoesNotMatch"), candidate
        assert b"TOP-SECRET" not in body


def test_x_amz_expires_over_seven_days_is_refused(
    v4: Any, server: StratoServer, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    week = 7 * 24 * 3600
    ok = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=week)
    assert get(ok)[0] == 200
    too_long = presign_v4_at(f"{server.url}/{bucket}/k", now(), expires=week + 1)
    assert parse_qs(urlsplit(too_long).query)["X-Amz-Expires"] == [str(week + 1)]
    status, _, body = get(too_long)
    assert (status, code_of(body)) == (400, "AuthorizationQueryParametersError")
