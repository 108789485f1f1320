"""SigV4 for services other than S3 (Lambda): botocore's SigV4Auth signs a normalized path
encoded once more and the body's SHA-256; presigned URLs made by strato verify."""

from __future__ import annotations

import datetime
import hashlib
from urllib.parse import parse_qsl

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from strato.auth import sigv4
from strato.auth.errors import AuthError

ACCESS, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
PATH = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Afn/invocations"


def signed(body: bytes) -> tuple[list[tuple[str, str]], dict[str, str]]:
    request = AWSRequest(method="POST", url=f"http://127.0.0.1:9000{PATH}?Qualifier=live", data=body)
    SigV4Auth(Credentials(ACCESS, SECRET), "lambda", "us-east-1").add_auth(request)
    headers = [("host", "127.0.0.1:9000"), *((k.lower(), str(v)) for k, v in request.headers.items())]
    return headers, dict(headers)


def verify(headers: list[tuple[str, str]], header_map: dict[str, str], body: bytes) -> sigv4.Verified:
    auth = sigv4.parse_header(header_map["authorization"])
    assert auth is not None
    return sigv4.verify(auth, SECRET, method="POST", raw_path=PATH.encode(), raw_query=b"Qualifier=live",
                        headers=headers, header_map=header_map, query={"Qualifier": "live"},
                        now=datetime.datetime.now(datetime.UTC).timestamp(),
                        body_sha256=hashlib.sha256(body).hexdigest())


def test_the_path_is_signed_encoded_twice_with_dot_segments_removed() -> None:
    assert sigv4.canonical_uri_normalized(b"/a/%3A/./b/../c") == "/a/%253A/c"


@pytest.mark.parametrize("path", ["//a//b", "/a//b/", "//", "/a/./", "/a/..", "/a/../", "/a/.", "/", "/a/b/"])
def test_empty_segments_are_removed_as_botocore_removes_them(path: str) -> None:
    request = AWSRequest(method="GET", url=f"http://h{path}")
    expected = SigV4Auth(Credentials(ACCESS, SECRET), "lambda", "us-east-1").canonical_request(request).split("\n")[1]
    assert sigv4.canonical_uri_normalized(path.encode()) == expected


def test_a_botocore_signed_lambda_request_verifies_with_its_body_hash() -> None:
    body = b'{"hello": "world"}'
    headers, header_map = signed(body)
    assert verify(headers, header_map, body).scope.service == "lambda"


def test_a_different_body_fails_the_signature() -> None:
    headers, header_map = signed(b'{"a": 1}')
    with pytest.raises(AuthError) as caught:
        verify(headers, header_map, b'{"a": 2}')
    assert caught.value.code == "SignatureDoesNotMatch"


def test_a_presigned_url_made_here_verifies_and_expires() -> None:
    raw_path = b"/2015-03-31/functions/fn/code"
    now = 1_700_000_000.0
    query = sigv4.presign("GET", "h:1", raw_path, [("Qualifier", "$LATEST")], access_key=ACCESS, secret=SECRET,
                          region="us-east-1", service="lambda", now=now, expires=600, s3_path=False)
    decoded = dict(parse_qsl(query))
    auth = sigv4.parse_query(decoded)

    def check(at: float) -> sigv4.Verified:
        return sigv4.verify(auth, SECRET, method="GET", raw_path=raw_path, raw_query=query.encode(),
                            headers=[("host", "h:1")], header_map={"host": "h:1"}, query=decoded, now=at,
                            body_sha256=sigv4.EMPTY_SHA256)

    assert check(now + 599).scope.service == "lambda"
    with pytest.raises(AuthError, match="expired"):
        check(now + 601)
