"""SigV4 for the services that sign their body (Lambda, Logs, CloudFront): the claim read from
a request's head, the signature checked over its body, and the errors AWS's JSON and XML
services give."""

from __future__ import annotations

import urllib.parse

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from strato.api.signed import claim, json_auth_error, verify_body, xml_auth_error
from strato.auth.credentials import AccountCredentials, Identity
from strato.auth.errors import AuthError
from strato.http.request import Request

ROOT = Identity("STRATOROOTKEY0000000", "root-secret", "root")
STORE = AccountCredentials(ROOT, lambda name: False)
URL = "http://127.0.0.1:9000/2015-03-31/functions/echo/invocations"
BODY = b'{"hello": "world"}'


async def _never() -> dict[str, object]:
    raise AssertionError("the body is not read here")


def request(aws: AWSRequest) -> Request:
    """The request as the server sees it, from what botocore would send."""
    prepared = aws.prepare()
    parts = urllib.parse.urlsplit(prepared.url)
    headers = [(name.lower().encode(), str(value).encode()) for name, value in prepared.headers.items()]
    scope = {"type": "http", "method": prepared.method, "path": parts.path, "raw_path": parts.path.encode(),
             "query_string": parts.query.encode(), "headers": [(b"host", parts.netloc.encode()), *headers]}
    return Request.from_scope(scope, _never)


def signed(secret: str = ROOT.secret_key, body: bytes = BODY) -> Request:
    aws = AWSRequest("POST", URL, data=body)
    SigV4Auth(Credentials(ROOT.access_key, secret), "lambda", "us-east-1").add_auth(aws)
    return request(aws)


def presigned() -> Request:
    aws = AWSRequest("POST", URL, data=BODY)
    SigV4QueryAuth(Credentials(ROOT.access_key, ROOT.secret_key), "lambda", "us-east-1", expires=60).add_auth(aws)
    return request(aws)


class TestClaim:
    def test_a_signed_header_names_its_key(self) -> None:
        auth, identity = claim(signed(), STORE)
        assert identity == ROOT
        assert (auth.scope.service, auth.presigned) == ("lambda", False)

    def test_a_presigned_query_names_its_key(self) -> None:
        auth, identity = claim(presigned(), STORE)
        assert identity == ROOT
        assert auth.presigned

    @pytest.mark.parametrize(("authorization", "code"), [
        (None, "MissingAuthenticationToken"),
        ("AWS STRATOROOTKEY0000000:c2lnbmF0dXJl", "IncompleteSignature"),
        ("AWS4-HMAC-SHA256 Credential=NOSUCHKEY/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, "
         "Signature=" + "0" * 64, "InvalidAccessKeyId"),
    ], ids=["none", "another scheme", "unknown key"])
    def test_what_no_known_key_signed_is_refused_from_the_head(self, authorization: str | None, code: str) -> None:
        aws = AWSRequest("POST", URL, data=BODY, headers={"Authorization": authorization} if authorization else {})
        with pytest.raises(AuthError) as refused:
            claim(request(aws), STORE)
        assert refused.value.code == code


class TestVerifyBody:
    def test_the_signature_covers_the_body(self) -> None:
        sent = signed()
        auth, _ = claim(sent, STORE)
        verify_body(STORE, auth, sent, BODY)
        with pytest.raises(AuthError) as refused:
            verify_body(STORE, auth, sent, b'{"hello": "mallory"}')
        assert refused.value.code == "SignatureDoesNotMatch"

    def test_a_presigned_request_covers_its_body_too(self) -> None:
        """As botocore's SigV4QueryAuth signs for every service but S3 (the body's SHA-256, the
        empty one's here): a presigned URL cannot be sent on with a body of the holder's choice."""
        aws = AWSRequest("GET", "http://127.0.0.1:9000/2015-03-31/functions/echo")
        SigV4QueryAuth(Credentials(ROOT.access_key, ROOT.secret_key), "lambda", "us-east-1", expires=60).add_auth(aws)
        sent = request(aws)
        auth, _ = claim(sent, STORE)
        verify_body(STORE, auth, sent, b"")
        with pytest.raises(AuthError) as refused:
            verify_body(STORE, auth, sent, BODY)
        assert refused.value.code == "SignatureDoesNotMatch"

    def test_a_wrong_secret_is_a_mismatch(self) -> None:
        sent = signed(secret="not-the-secret")
        auth, _ = claim(sent, STORE)
        with pytest.raises(AuthError) as refused:
            verify_body(STORE, auth, sent, BODY)
        assert refused.value.code == "SignatureDoesNotMatch"


class TestRefusals:
    def test_a_mismatch_shows_what_the_server_signed(self) -> None:
        sent = signed(secret="not-the-secret")
        auth, _ = claim(sent, STORE)
        with pytest.raises(AuthError) as refused:
            verify_body(STORE, auth, sent, BODY)
        kind, message = json_auth_error(refused.value)
        assert kind == "InvalidSignatureException"
        assert "The Canonical String for this request should have been\n'POST\n/2015-03-31/functions/echo/" \
               "invocations\n" in message
        assert "The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n" in message

    @pytest.mark.parametrize(("code", "kind"), [
        ("InvalidAccessKeyId", "UnrecognizedClientException"),
        ("RequestTimeTooSkewed", "InvalidSignatureException"),
        ("MissingAuthenticationToken", "MissingAuthenticationTokenException"),
        ("AccessDenied", "AccessDeniedException"),
        ("AuthorizationHeaderMalformed", "IncompleteSignatureException"),
        ("IncompleteSignature", "IncompleteSignatureException"),
    ])
    def test_each_refusal_has_the_type_json_services_answer(self, code: str, kind: str) -> None:
        assert json_auth_error(AuthError(code, "why"))[0] == kind

    def test_an_unknown_key_is_worded_as_an_invalid_token(self) -> None:
        assert json_auth_error(AuthError("InvalidAccessKeyId", "x")) == (
            "UnrecognizedClientException", "The security token included in the request is invalid.")

    @pytest.mark.parametrize(("code", "answer"), [
        ("InvalidAccessKeyId", ("InvalidClientTokenId", 403)),
        ("SignatureDoesNotMatch", ("SignatureDoesNotMatch", 403)),
        ("RequestTimeTooSkewed", ("RequestExpired", 400)),
        ("MissingAuthenticationToken", ("MissingAuthenticationToken", 403)),
        ("AccessDenied", ("AccessDenied", 403)),
        ("AuthorizationHeaderMalformed", ("IncompleteSignature", 400)),
    ])
    def test_xml_services_answer_their_common_errors(self, code: str, answer: tuple[str, int]) -> None:
        kind, _, status = xml_auth_error(AuthError(code, "why"))
        assert (kind, status) == answer
