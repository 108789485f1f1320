"""SigV4: AWS's published signature examples, then real botocore signatures end to end.

Source: Amazon S3 API reference, "Examples: Signature Calculations" (header-based auth and
query-string auth), all on 20130524T000000Z in us-east-1 with the documented example keys.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest

from strato.auth import sigv4
from strato.auth.errors import AuthError
from strato.http.request import Request
from tests.auth.wire import (
    ACCESS_KEY,
    CREDENTIALS,
    ENDPOINT,
    REGION,
    SECRET_KEY,
    client,
    from_botocore,
    sent_by,
    signed_at,
    verify_v4,
    wire_request,
)

AMZ_DATE = "20130524T000000Z"
SCOPE = sigv4.Scope(ACCESS_KEY, "20130524", "us-east-1", "s3")
KEY = sigv4.signing_key(SECRET_KEY, "20130524", "us-east-1", "s3")
EMPTY = sigv4.EMPTY_SHA256
EXAMPLE_HOST = "examplebucket.s3.amazonaws.com"
EXAMPLE_NOW = 1369353600.0  # 2013-05-24T00:00:00Z
CREDENTIAL = f"{ACCESS_KEY}/20130524/us-east-1/s3/aws4_request"


def signature_of(
    method: str,
    raw_path: bytes,
    raw_query: bytes,
    headers: list[tuple[str, str]],
    payload: str,
    presigned: bool = False,
) -> str:
    signed = tuple(name for name, _ in headers)
    request = sigv4.canonical_request(method, raw_path, raw_query, headers, signed, payload, presigned)
    return sigv4.sign(KEY, sigv4.string_to_sign(AMZ_DATE, SCOPE, request))


def example_authorization(signed_headers: str, signature: str) -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20130524/us-east-1/s3/aws4_request,"
        f"SignedHeaders={signed_headers},Signature={signature}"
    )


class TestTheAwsHeaderExamples:
    def test_get_object_with_a_range_has_the_documented_canonical_request(self) -> None:
        headers = [
            ("host", EXAMPLE_HOST),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY),
            ("x-amz-date", AMZ_DATE),
        ]
        request = sigv4.canonical_request(
            "GET",
            b"/test.txt",
            b"",
            headers,
            ("host", "range", "x-amz-content-sha256", "x-amz-date"),
            EMPTY,
            False,
        )
        assert request == (
            "GET\n/test.txt\n\n"
            "host:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            f"x-amz-content-sha256:{EMPTY}\nx-amz-date:20130524T000000Z\n\n"
            f"host;range;x-amz-content-sha256;x-amz-date\n{EMPTY}"
        )
        assert sigv4.string_to_sign(AMZ_DATE, SCOPE, request) == (
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
        )

    def test_get_object_with_a_range_has_the_documented_signature(self) -> None:
        headers = [
            ("host", EXAMPLE_HOST),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY),
            ("x-amz-date", AMZ_DATE),
        ]
        assert signature_of("GET", b"/test.txt", b"", headers, EMPTY) == (
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )

    @pytest.mark.parametrize("raw_path", [b"/test$file.text", b"/test%24file.text"])
    def test_put_object_signs_the_path_encoded_once_however_the_client_sent_it(self, raw_path: bytes) -> None:
        payload = hashlib.sha256(b"Welcome to Amazon S3.").hexdigest()
        assert payload == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        headers = [
            ("date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("host", EXAMPLE_HOST),
            ("x-amz-content-sha256", payload),
            ("x-amz-date", AMZ_DATE),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ]
        assert sigv4.canonical_uri(raw_path) == "/test%24file.text"
        assert signature_of("PUT", raw_path, b"", headers, payload) == (
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        )

    def test_get_bucket_lifecycle_signs_a_valueless_subresource_as_name_equals(self) -> None:
        headers = [("host", EXAMPLE_HOST), ("x-amz-content-sha256", EMPTY), ("x-amz-date", AMZ_DATE)]
        assert sigv4.canonical_query(b"lifecycle") == "lifecycle="
        assert signature_of("GET", b"/", b"lifecycle", headers, EMPTY) == (
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
        )

    def test_list_objects_signs_the_parameters_sorted(self) -> None:
        headers = [("host", EXAMPLE_HOST), ("x-amz-content-sha256", EMPTY), ("x-amz-date", AMZ_DATE)]
        assert signature_of("GET", b"/", b"prefix=J&max-keys=2", headers, EMPTY) == (
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        )

    def test_the_get_object_example_verifies_as_a_whole_request(self) -> None:
        signature = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        request = wire_request(
            "GET",
            f"http://{EXAMPLE_HOST}/test.txt",
            [
                ("Range", "bytes=0-9"),
                ("x-amz-content-sha256", EMPTY),
                ("x-amz-date", AMZ_DATE),
                (
                    "Authorization",
                    example_authorization("host;range;x-amz-content-sha256;x-amz-date", signature),
                ),
            ],
        )
        verified = verify_v4(request, now=EXAMPLE_NOW)
        assert verified.scope == SCOPE
        assert verified.signature == signature
        assert verified.payload_hash == EMPTY
        assert verified.key == KEY

    def test_the_signature_in_the_example_does_not_verify_with_another_secret(self) -> None:
        signature = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        request = wire_request(
            "GET",
            f"http://{EXAMPLE_HOST}/test.txt",
            [
                ("Range", "bytes=0-9"),
                ("x-amz-content-sha256", EMPTY),
                ("x-amz-date", AMZ_DATE),
                (
                    "Authorization",
                    example_authorization("host;range;x-amz-content-sha256;x-amz-date", signature),
                ),
            ],
        )
        with pytest.raises(AuthError) as caught:
            verify_v4(request, secret="another secret", now=EXAMPLE_NOW)
        assert caught.value.code == "SignatureDoesNotMatch"


PRESIGNED_EXAMPLE = (
    f"http://{EXAMPLE_HOST}/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
)


class TestTheAwsPresignedExample:
    def test_the_documented_presigned_get_verifies_within_its_day(self) -> None:
        request = wire_request("GET", PRESIGNED_EXAMPLE)
        verified = verify_v4(request, now=EXAMPLE_NOW + 86400)
        assert verified.payload_hash == sigv4.UNSIGNED_PAYLOAD
        assert verified.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

    def test_the_documented_presigned_get_has_expired_a_second_after_its_day(self) -> None:
        with pytest.raises(AuthError) as caught:
            verify_v4(wire_request("GET", PRESIGNED_EXAMPLE), now=EXAMPLE_NOW + 86401)
        assert (caught.value.code, caught.value.message) == ("AccessDenied", "Request has expired")

    def test_the_documented_presigned_get_is_not_valid_long_before_it_was_signed(self) -> None:
        with pytest.raises(AuthError) as caught:
            verify_v4(wire_request("GET", PRESIGNED_EXAMPLE), now=EXAMPLE_NOW - 3600)
        assert caught.value.code == "AccessDenied"

    def test_a_longer_lifetime_in_the_url_breaks_the_signature(self) -> None:
        request = wire_request("GET", PRESIGNED_EXAMPLE.replace("X-Amz-Expires=86400", "X-Amz-Expires=86401"))
        with pytest.raises(AuthError) as caught:
            verify_v4(request, now=EXAMPLE_NOW)
        assert caught.value.code == "SignatureDoesNotMatch"

    def test_the_same_url_for_another_key_does_not_verify(self) -> None:
        request = wire_request("GET", PRESIGNED_EXAMPLE.replace("/test.txt", "/secret.txt"))
        with pytest.raises(AuthError) as caught:
            verify_v4(request, now=EXAMPLE_NOW)
        assert caught.value.code == "SignatureDoesNotMatch"


def botocore_signed(
    method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> Request:
    request = AWSRequest(method=method, url=ENDPOINT + path, headers=headers or {}, data=body)
    S3SigV4Auth(CREDENTIALS, "s3", REGION).add_auth(request)
    return from_botocore(request)


def botocore_presigned(method: str, path: str, expires: int = 3600) -> Request:
    request = AWSRequest(method=method, url=ENDPOINT + path)
    S3SigV4QueryAuth(CREDENTIALS, "s3", REGION, expires=expires).add_auth(request)
    return from_botocore(request)


def tampered(request: Request, **changes: Any) -> Request:
    """The same bytes on the wire with one piece changed."""
    header_list = changes.pop("header_list", request.header_list)
    path = changes.pop("raw_path", request.raw_path).decode()
    query = changes.pop("raw_query", request.raw_query).decode()
    assert not changes
    url = f"http://{request.headers['host']}{path}" + (f"?{query}" if query else "")
    return wire_request(request.method, url, header_list)


def refusal(request: Request, now: float | None = None) -> AuthError:
    with pytest.raises(AuthError) as caught:
        verify_v4(request, now=now)
    return caught.value


class TestHeaderSignaturesFromBotocore:
    def test_a_signed_get_is_accepted(self) -> None:
        request = botocore_signed("GET", "/bucket/key.txt")
        verified = verify_v4(request)
        assert verified.scope == sigv4.Scope(ACCESS_KEY, request.headers["x-amz-date"][:8], REGION, "s3")
        assert verified.payload_hash == EMPTY

    def test_a_signed_put_carries_the_hash_of_its_body_for_the_body_check(self) -> None:
        request = botocore_signed("PUT", "/bucket/key.txt", {"x-amz-meta-color": "blue"}, b"hello")
        assert verify_v4(request).payload_hash == hashlib.sha256(b"hello").hexdigest()

    def test_a_request_with_subresources_and_parameters_is_accepted(self) -> None:
        request = botocore_signed("GET", "/bucket?list-type=2&prefix=a%2Fb&delimiter=%2F&max-keys=10")
        verify_v4(request)

    def test_a_changed_signed_header_is_refused(self) -> None:
        request = botocore_signed("PUT", "/bucket/key.txt", {"x-amz-meta-color": "blue"}, b"hello")
        headers = [(n, "red" if n == "x-amz-meta-color" else v) for n, v in request.header_list]
        assert refusal(tampered(request, header_list=headers)).code == "SignatureDoesNotMatch"

    def test_a_removed_signed_header_is_refused(self) -> None:
        request = botocore_signed("PUT", "/bucket/key.txt", {"x-amz-meta-color": "blue"}, b"hello")
        headers = [(n, v) for n, v in request.header_list if n != "x-amz-meta-color"]
        assert refusal(tampered(request, header_list=headers)).code == "SignatureDoesNotMatch"

    def test_an_added_unsigned_header_changes_nothing(self) -> None:
        request = botocore_signed("GET", "/bucket/key.txt")
        verify_v4(tampered(request, header_list=[*request.header_list, ("x-forwarded-for", "10.0.0.1")]))

    def test_whitespace_inside_a_signed_header_value_is_folded_as_the_spec_says(self) -> None:
        request = botocore_signed("PUT", "/bucket/key.txt", {"x-amz-meta-note": "a b"}, b"")
        headers = [(n, "  a   b " if n == "x-amz-meta-note" else v) for n, v in request.header_list]
        verify_v4(tampered(request, header_list=headers))

    def test_another_path_is_refused(self) -> None:
        request = botocore_signed("GET", "/bucket/key.txt")
        assert refusal(tampered(request, raw_path=b"/bucket/other.txt")).code == "SignatureDoesNotMatch"

    def test_an_added_query_parameter_is_refused(self) -> None:
        request = botocore_signed("GET", "/bucket/key.txt")
        assert refusal(tampered(request, raw_query=b"versionId=1")).code == "SignatureDoesNotMatch"

    def test_a_changed_query_value_is_refused(self) -> None:
        request = botocore_signed("GET", "/bucket?prefix=a")
        assert refusal(tampered(request, raw_query=b"prefix=b")).code == "SignatureDoesNotMatch"

    def test_another_method_is_refused(self) -> None:
        request = botocore_signed("GET", "/bucket/key.txt")
        other = wire_request(
            "DELETE", f"http://{request.headers['host']}/bucket/key.txt", request.header_list
        )
        assert refusal(other).code == "SignatureDoesNotMatch"

    def test_the_wrong_secret_is_refused(self) -> None:
        with pytest.raises(AuthError) as caught:
            verify_v4(botocore_signed("GET", "/bucket/key.txt"), secret="not the secret")
        assert caught.value.code == "SignatureDoesNotMatch"

    def test_a_request_signed_fifteen_minutes_ago_is_still_accepted(self) -> None:
        request = botocore_signed("GET", "/bucket/key.txt")
        verify_v4(request, now=signed_at(request) + 15 * 60)
        verify_v4(request, now=signed_at(request) - 15 * 60)

    def test_a_request_signed_more_than_fifteen_minutes_ago_is_too_skewed(self) -> None:
        request = botocore_signed("GET", "/bucket/key.txt")
        assert refusal(request, now=signed_at(request) + 15 * 60 + 1).code == "RequestTimeTooSkewed"

    def test_a_request_signed_more_than_fifteen_minutes_ahead_is_too_skewed(self) -> None:
        request = botocore_signed("GET", "/bucket/key.txt")
        assert refusal(request, now=signed_at(request) - 15 * 60 - 1).code == "RequestTimeTooSkewed"

    def test_a_request_without_a_payload_hash_is_refused(self) -> None:
        request = botocore_signed("GET", "/bucket/key.txt")
        headers = [(n, v) for n, v in request.header_list if n != "x-amz-content-sha256"]
        error = refusal(tampered(request, header_list=headers))
        assert (error.code, error.status) == ("InvalidRequest", 400)

    def test_a_payload_hash_that_is_not_a_hash_is_refused(self) -> None:
        request = botocore_signed("GET", "/bucket/key.txt")
        headers = [(n, "abc" if n == "x-amz-content-sha256" else v) for n, v in request.header_list]
        error = refusal(tampered(request, header_list=headers))
        assert (error.code, error.status) == ("InvalidArgument", 400)


class TestMalformedHeaderSignatures:
    def test_another_scheme_is_not_sigv4(self) -> None:
        assert sigv4.parse_header("AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=") is None

    def test_the_documented_header_parses_into_its_parts(self) -> None:
        auth = sigv4.parse_header(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-date, "
            "Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
        )
        assert auth is not None
        assert auth.scope == sigv4.Scope(ACCESS_KEY, "20130524", "us-east-1", "s3")
        assert auth.signed_headers == ("host", "range", "x-amz-date")
        assert auth.signature == "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"

    @pytest.mark.parametrize(
        "value",
        [
            "AWS4-HMAC-SHA256",
            f"AWS4-HMAC-SHA256 Credential={CREDENTIAL}",
            f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20130524/us-east-1/s3, SignedHeaders=host, "
            "Signature=0",
            f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}//us-east-1/s3/aws4_request, SignedHeaders=host, "
            "Signature=0",
            f"AWS4-HMAC-SHA256 Credential={CREDENTIAL} SignedHeaders=host",
        ],
    )
    def test_a_header_missing_its_parts_is_malformed(self, value: str) -> None:
        with pytest.raises(AuthError) as caught:
            sigv4.parse_header(value)
        assert (caught.value.code, caught.value.status) == ("AuthorizationHeaderMalformed", 400)

    def test_a_signature_that_leaves_the_host_unsigned_is_refused(self) -> None:
        request = wire_request(
            "GET",
            f"http://{EXAMPLE_HOST}/test.txt",
            [
                ("x-amz-content-sha256", EMPTY),
                ("x-amz-date", AMZ_DATE),
                ("Authorization", example_authorization("x-amz-content-sha256;x-amz-date", "0" * 64)),
            ],
        )
        assert refusal(request, now=EXAMPLE_NOW).code == "AuthorizationHeaderMalformed"

    def test_a_credential_for_another_day_than_the_request_is_refused(self) -> None:
        request = wire_request(
            "GET",
            f"http://{EXAMPLE_HOST}/test.txt",
            [
                ("x-amz-content-sha256", EMPTY),
                ("x-amz-date", "20130525T000000Z"),
                ("Authorization", example_authorization("host;x-amz-content-sha256;x-amz-date", "0" * 64)),
            ],
        )
        assert refusal(request, now=EXAMPLE_NOW + 86400).code == "AuthorizationHeaderMalformed"

    @pytest.mark.parametrize(
        "amz_date",
        ["20130524", "20131324T000000Z", "20130524T256000Z", "２０１３０５２４T000000Z", "yesterday"],
    )
    def test_an_unreadable_request_date_is_access_denied(self, amz_date: str) -> None:
        request = wire_request(
            "GET",
            f"http://{EXAMPLE_HOST}/test.txt",
            [
                ("x-amz-content-sha256", EMPTY),
                ("x-amz-date", amz_date.encode("utf-8")),
                ("Authorization", example_authorization("host;x-amz-content-sha256;x-amz-date", "0" * 64)),
            ],
        )
        assert refusal(request, now=EXAMPLE_NOW).code == "AccessDenied"

    def test_a_date_header_stands_in_for_a_missing_x_amz_date(self) -> None:
        headers = [
            ("date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("host", EXAMPLE_HOST),
            ("x-amz-content-sha256", EMPTY),
        ]
        signature = signature_of("GET", b"/test.txt", b"", headers, EMPTY)
        request = wire_request(
            "GET",
            f"http://{EXAMPLE_HOST}/test.txt",
            [
                *headers,
                ("Authorization", example_authorization("date;host;x-amz-content-sha256", signature)),
            ],
        )
        verify_v4(request, now=EXAMPLE_NOW)

    @pytest.mark.parametrize("date", ["Friday, 24-May-13 00:00:00 GMT", "Fri May 24 00:00:00 2013"])
    def test_a_date_header_in_the_obsolete_http_date_formats_is_read_as_gmt(self, date: str) -> None:
        headers = [("date", date), ("host", EXAMPLE_HOST), ("x-amz-content-sha256", EMPTY)]
        signature = signature_of("GET", b"/test.txt", b"", headers, EMPTY)
        request = wire_request(
            "GET",
            f"http://{EXAMPLE_HOST}/test.txt",
            [*headers, ("Authorization", example_authorization("date;host;x-amz-content-sha256", signature))],
        )
        verify_v4(request, now=EXAMPLE_NOW)

    def test_a_request_with_no_date_at_all_is_access_denied(self) -> None:
        request = wire_request(
            "GET",
            f"http://{EXAMPLE_HOST}/test.txt",
            [
                ("x-amz-content-sha256", EMPTY),
                ("Authorization", example_authorization("host;x-amz-content-sha256", "0" * 64)),
            ],
        )
        assert refusal(request, now=EXAMPLE_NOW).code == "AccessDenied"


class TestPresignedUrlsFromBotocore:
    def test_a_presigned_get_is_accepted_until_it_expires(self) -> None:
        request = botocore_presigned("GET", "/bucket/key.txt", expires=600)
        assert verify_v4(request).payload_hash == sigv4.UNSIGNED_PAYLOAD
        verify_v4(request, now=signed_at(request) + 600)

    def test_a_presigned_get_used_after_it_expires_is_refused(self) -> None:
        request = botocore_presigned("GET", "/bucket/key.txt", expires=600)
        error = refusal(request, now=signed_at(request) + 601)
        assert (error.code, error.message, error.status) == ("AccessDenied", "Request has expired", 403)

    def test_a_presigned_url_lasting_exactly_a_week_is_accepted(self) -> None:
        verify_v4(botocore_presigned("GET", "/bucket/key.txt", expires=604800))

    def test_a_presigned_url_lasting_longer_than_a_week_is_refused(self) -> None:
        request = botocore_presigned("GET", "/bucket/key.txt", expires=604801)
        with pytest.raises(AuthError) as caught:
            sigv4.parse_query(request.query)
        assert (caught.value.code, caught.value.status) == ("AuthorizationQueryParametersError", 400)

    @pytest.mark.parametrize("expires", ["soon", "-1", "1.5", "²", ""])
    def test_a_lifetime_that_is_not_a_number_of_seconds_is_refused(self, expires: str) -> None:
        query = dict(wire_request("GET", PRESIGNED_EXAMPLE).query, **{"X-Amz-Expires": expires})
        with pytest.raises(AuthError) as caught:
            sigv4.parse_query(query)
        assert caught.value.code == "AuthorizationQueryParametersError"

    @pytest.mark.parametrize(
        "missing",
        ["X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Expires"],
    )
    def test_a_url_missing_a_parameter_is_refused(self, missing: str) -> None:
        query = dict(wire_request("GET", PRESIGNED_EXAMPLE).query)
        del query[missing]
        with pytest.raises(AuthError) as caught:
            sigv4.parse_query(query)
        assert caught.value.code == "AuthorizationQueryParametersError"

    def test_another_algorithm_is_refused(self) -> None:
        query = dict(wire_request("GET", PRESIGNED_EXAMPLE).query, **{"X-Amz-Algorithm": "AWS4-HMAC-SHA1"})
        with pytest.raises(AuthError) as caught:
            sigv4.parse_query(query)
        assert caught.value.code == "AuthorizationQueryParametersError"

    def test_a_presigned_url_used_for_another_method_is_refused(self) -> None:
        request = botocore_presigned("GET", "/bucket/key.txt")
        url = f"http://{request.headers['host']}/bucket/key.txt?{request.raw_query.decode()}"
        assert refusal(wire_request("PUT", url)).code == "SignatureDoesNotMatch"

    def test_a_presigned_url_with_an_added_parameter_is_refused(self) -> None:
        request = botocore_presigned("GET", "/bucket/key.txt")
        query = request.raw_query + b"&response-content-type=text%2Fhtml"
        assert refusal(tampered(request, raw_query=query)).code == "SignatureDoesNotMatch"

    def test_a_presigned_url_for_another_key_is_refused(self) -> None:
        request = botocore_presigned("GET", "/bucket/key.txt")
        assert refusal(tampered(request, raw_path=b"/bucket/other.txt")).code == "SignatureDoesNotMatch"

    def test_boto3s_generate_presigned_url_verifies(self) -> None:
        s3 = client(signature_version="s3v4")
        url = s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": "bucket", "Key": "dir/a b+c.txt", "ResponseContentType": "text/plain"},
            ExpiresIn=300,
        )
        verify_v4(wire_request("GET", url))


AWKWARD_KEYS = [
    "my file.txt",
    "a+b=c.txt",
    "100%.txt",
    "%41",
    "日本/データ.txt",
    "emoji 🎉",
    "question?mark",
    "hash#tag",
    "semi;colon,comma",
    "tilde~and'quote\"",
    "double//slash",
    "trailing/",
    "/leading",
    "dots/./and/../",
    "brackets[]{}<>^`|\\",
    "ampersand&equals=",
]


class TestAwkwardKeysSignedByBoto3:
    @pytest.mark.parametrize("key", AWKWARD_KEYS)
    def test_a_put_of_the_key_verifies(self, key: str) -> None:
        sent = sent_by(
            client(),
            lambda s3: s3.put_object(Bucket="bucket", Key=key, Body=b"x", Metadata={"color": "blue"}),
        )
        verified = verify_v4(sent.request())
        assert verified.payload_hash == hashlib.sha256(b"x").hexdigest()

    @pytest.mark.parametrize("key", AWKWARD_KEYS)
    def test_a_get_of_the_key_with_a_range_verifies(self, key: str) -> None:
        sent = sent_by(client(), lambda s3: s3.get_object(Bucket="bucket", Key=key, Range="bytes=0-9"))
        verify_v4(sent.request())

    @pytest.mark.parametrize("key", AWKWARD_KEYS)
    def test_a_presigned_get_of_the_key_verifies(self, key: str) -> None:
        url = client(signature_version="s3v4").generate_presigned_url(
            "get_object", Params={"Bucket": "bucket", "Key": key}
        )
        verify_v4(wire_request("GET", url))

    @pytest.mark.parametrize("key", AWKWARD_KEYS)
    def test_the_key_in_a_virtual_hosted_request_verifies(self, key: str) -> None:
        s3 = client("http://s3.example.com:9000", s3={"addressing_style": "virtual"})
        sent = sent_by(s3, lambda s3: s3.head_object(Bucket="bucket", Key=key))
        assert sent.url.startswith(f"http://bucket.s3.example.com:9000/{quote(key, safe='/~')}")
        verify_v4(sent.request())

    @pytest.mark.parametrize("prefix", ["a b/", "a+b/", "日本/", "x&y=z", "%"])
    def test_a_listing_with_an_awkward_prefix_verifies(self, prefix: str) -> None:
        sent = sent_by(client(), lambda s3: s3.list_objects_v2(Bucket="bucket", Prefix=prefix, Delimiter="/"))
        verify_v4(sent.request())

    def test_a_multipart_upload_part_verifies(self) -> None:
        sent = sent_by(
            client(),
            lambda s3: s3.upload_part(
                Bucket="bucket", Key="a b", UploadId="x+y/z==", PartNumber=1, Body=b"part"
            ),
        )
        verify_v4(sent.request())

    def test_a_copy_with_an_awkward_source_verifies(self) -> None:
        sent = sent_by(
            client(), lambda s3: s3.copy_object(Bucket="bucket", Key="to", CopySource="src/a b+c 日本")
        )
        verify_v4(sent.request())


class TestCanonicalPieces:
    def test_the_path_is_encoded_once_and_never_normalised(self) -> None:
        assert sigv4.canonical_uri(b"/bucket/a/../b//c/./d") == "/bucket/a/../b//c/./d"

    def test_every_byte_but_the_unreserved_ones_is_percent_encoded(self) -> None:
        assert sigv4.canonical_uri(b"/a b+c~d_e-f.g*h") == "/a%20b%2Bc~d_e-f.g%2Ah"

    def test_lower_case_escapes_come_out_upper_case(self) -> None:
        assert sigv4.canonical_uri(b"/%e6%97%a5") == "/%E6%97%A5"

    def test_bytes_that_are_not_utf_8_are_encoded_as_they_came(self) -> None:
        assert sigv4.canonical_uri(b"/bucket/%FF%FE") == "/bucket/%FF%FE"
        assert sigv4.canonical_query(b"a=%FF") == "a=%FF"

    def test_query_parameters_sort_by_name_then_value_and_the_signature_is_left_out(self) -> None:
        query = b"b=2&a=2&a=1&X-Amz-Signature=abc&c"
        assert sigv4.canonical_query(query, exclude="X-Amz-Signature") == "a=1&a=2&b=2&c="

    def test_slashes_in_query_values_are_encoded(self) -> None:
        assert sigv4.canonical_query(b"prefix=a/b&delimiter=/") == "delimiter=%2F&prefix=a%2Fb"

    def test_the_signing_key_is_the_documented_derivation(self) -> None:
        # AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
        key = sigv4.signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
        assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
