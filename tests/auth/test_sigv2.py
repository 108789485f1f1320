"""SigV2 (legacy S3 HMAC-SHA1): the S3 guide's authentication examples, then real botocore
HmacV1 signatures, headers and presigned URLs, end to end.

Source: Amazon S3 API reference, "Signing and authenticating REST requests (AWS signature
version 2)", section "Authentication examples" and "Query string request authentication".
"""

from __future__ import annotations

import base64
import email.utils
import hmac
from typing import Any

import pytest
from botocore.auth import HmacV1Auth, HmacV1QueryAuth
from botocore.awsrequest import AWSRequest

from strato.auth import sigv2
from strato.auth.errors import AuthError
from strato.http.conditionals import parse_http_date
from strato.http.request import Request
from tests.auth.wire import (
    ACCESS_KEY,
    CREDENTIALS,
    ENDPOINT,
    SECRET_KEY,
    client,
    from_botocore,
    sent_by,
    wire_request,
)


def resource_of(request: Request, bucket: str | None = None) -> str:
    """The CanonicalizedResource: the path as sent, the bucket first when the Host named it."""
    path = request.raw_path.decode("latin-1")
    return sigv2.canonical_resource(f"/{bucket}{path}" if bucket else path, request.query_list)


def verify_v2(
    request: Request, *, bucket: str | None = None, now: float | None = None, secret: str = SECRET_KEY
) -> None:
    """What strato's authentication does with a V2 request; `now` defaults to its own date."""
    header = request.headers.get("authorization")
    auth = sigv2.parse_header(header) if header is not None else sigv2.parse_query(request.query)
    assert auth is not None
    assert auth.access_key == ACCESS_KEY
    date_text = request.headers.get("x-amz-date") or request.headers.get("date")
    date = parse_http_date(date_text) if date_text else None
    if now is None:
        now = float(auth.expires) if auth.presigned else date
    assert now is not None
    sigv2.verify(
        auth,
        secret,
        method=request.method,
        headers=request.headers,
        resource=resource_of(request, bucket),
        now=now,
        date=date,
    )


def refusal(request: Request, **kwargs: Any) -> AuthError:
    with pytest.raises(AuthError) as caught:
        verify_v2(request, **kwargs)
    return caught.value


def authorization(signature: str) -> tuple[str, str]:
    return ("Authorization", f"AWS {ACCESS_KEY}:{signature}")


class TestTheS3GuideExamples:
    def test_object_get_virtual_hosted(self) -> None:
        request = wire_request(
            "GET",
            "http://awsexamplebucket1.us-west-1.s3.amazonaws.com/photos/puppy.jpg",
            [
                ("Date", "Tue, 27 Mar 2007 19:36:42 +0000"),
                authorization("qgk2+6Sv9/oM7G3qLEjTH1a1l1g="),
            ],
        )
        assert resource_of(request, "awsexamplebucket1") == "/awsexamplebucket1/photos/puppy.jpg"
        verify_v2(request, bucket="awsexamplebucket1")

    def test_object_put_signs_its_content_type(self) -> None:
        request = wire_request(
            "PUT",
            "http://awsexamplebucket1.us-west-1.s3.amazonaws.com/photos/puppy.jpg",
            [
                ("Content-Type", "image/jpeg"),
                ("Content-Length", "94328"),
                ("Date", "Tue, 27 Mar 2007 21:15:45 +0000"),
                authorization("iqRzw+ileNPu1fhspnRs8nOjjIA="),
            ],
        )
        verify_v2(request, bucket="awsexamplebucket1")

    def test_list_signs_the_bucket_root_and_no_listing_parameters(self) -> None:
        request = wire_request(
            "GET",
            "http://awsexamplebucket1.us-west-1.s3.amazonaws.com/?prefix=photos&max-keys=50&marker=puppy",
            [
                ("User-Agent", "Mozilla/5.0"),
                ("Date", "Tue, 27 Mar 2007 19:42:41 +0000"),
                authorization("m0WP8eCtspQl5Ahe6L1SozdX9YA="),
            ],
        )
        assert resource_of(request, "awsexamplebucket1") == "/awsexamplebucket1/"
        verify_v2(request, bucket="awsexamplebucket1")

    def test_fetch_acl_signs_the_acl_subresource(self) -> None:
        request = wire_request(
            "GET",
            "http://awsexamplebucket1.us-west-1.s3.amazonaws.com/?acl",
            [
                ("Date", "Tue, 27 Mar 2007 19:44:46 +0000"),
                authorization("82ZHiFIjc+WbcwFKGUVEQspPn+0="),
            ],
        )
        assert resource_of(request, "awsexamplebucket1") == "/awsexamplebucket1/?acl"
        verify_v2(request, bucket="awsexamplebucket1")

    def test_delete_with_x_amz_date_signs_that_date(self) -> None:
        request = wire_request(
            "DELETE",
            "http://s3.us-west-1.amazonaws.com/awsexamplebucket1/photos/puppy.jpg",
            [
                ("User-Agent", "dotnet"),
                ("Date", "Tue, 27 Mar 2007 21:20:27 +0000"),
                ("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"),
                authorization("XbyTlbQdu9Xw5o8P4iMwPktxQd8="),
            ],
        )
        verify_v2(request)

    def test_with_x_amz_date_the_documented_rule_leaves_the_date_line_empty(self) -> None:
        # "if you include the x-amz-date header, use the empty string for the Date when
        # constructing the StringToSign" (s3cmd and boto2 sign this way).
        text = "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/awsexamplebucket1/photos/puppy.jpg"
        signature = base64.b64encode(hmac.digest(SECRET_KEY.encode(), text.encode(), "sha1")).decode()
        request = wire_request(
            "DELETE",
            "http://s3.us-west-1.amazonaws.com/awsexamplebucket1/photos/puppy.jpg",
            [
                ("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"),
                authorization(signature),
            ],
        )
        verify_v2(request)

    def test_upload_signs_content_md5_and_folds_repeated_amz_headers(self) -> None:
        request = wire_request(
            "PUT",
            "http://static.example.com:8080/db-backup.dat.gz",
            [
                ("User-Agent", "curl/7.15.5"),
                ("Date", "Tue, 27 Mar 2007 21:06:08 +0000"),
                ("x-amz-acl", "public-read"),
                ("content-type", "application/x-download"),
                ("Content-MD5", "4gJE4saaMU4BqNR0kLY+lw=="),
                ("X-Amz-Meta-ReviewedBy", "email@example.com"),
                ("X-Amz-Meta-ReviewedBy", "joe@example.com"),
                ("X-Amz-Meta-FileChecksum", "0x02661779"),
                ("X-Amz-Meta-ChecksumAlgorithm", "crc32"),
                ("Content-Disposition", "attachment; filename=database.dat"),
                ("Content-Encoding", "gzip"),
                ("Content-Length", "5913339"),
                authorization("sZx8D77fZQoz7u52SyIjV6mrMs8="),
            ],
        )
        verify_v2(request, bucket="static.example.com")

    def test_list_all_buckets_signs_the_root(self) -> None:
        request = wire_request(
            "GET",
            "http://s3.us-west-1.amazonaws.com/",
            [
                ("Date", "Wed, 28 Mar 2007 01:29:59 +0000"),
                authorization("qGdzdERIC03wnaRNKh6OqZehG9s="),
            ],
        )
        verify_v2(request)

    def test_unicode_keys_sign_the_path_exactly_as_it_was_escaped(self) -> None:
        request = wire_request(
            "GET",
            "http://s3.us-west-1.amazonaws.com/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
            [
                ("Date", "Wed, 28 Mar 2007 01:49:49 +0000"),
                authorization("DNEZGsoieTZ92F3bUfSPQcbGmlM="),
            ],
        )
        verify_v2(request)

    def test_the_query_string_example_verifies_until_it_expires(self) -> None:
        url = (
            "http://johnsmith.s3.amazonaws.com/photos/puppy.jpg"
            "?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620"
        )
        request = wire_request("GET", url)
        verify_v2(request, bucket="johnsmith", now=1175139620)
        error = refusal(request, bucket="johnsmith", now=1175139621)
        assert (error.code, error.message) == ("AccessDenied", "Request has expired")

    def test_the_example_signature_does_not_verify_for_another_bucket(self) -> None:
        request = wire_request(
            "GET",
            "http://johnsmith.s3.amazonaws.com/photos/puppy.jpg",
            [
                ("Date", "Tue, 27 Mar 2007 19:36:42 +0000"),
                authorization("qgk2+6Sv9/oM7G3qLEjTH1a1l1g="),
            ],
        )
        assert refusal(request, bucket="johnsmith").code == "SignatureDoesNotMatch"


def hmac_v1(method: str, path: str, headers: dict[str, str] | None = None) -> Request:
    request = AWSRequest(method=method, url=ENDPOINT + path, headers=headers or {})
    HmacV1Auth(CREDENTIALS).add_auth(request)
    return from_botocore(request)


def hmac_v1_presigned(method: str, path: str, expires: int = 3600) -> Request:
    request = AWSRequest(method=method, url=ENDPOINT + path)
    HmacV1QueryAuth(CREDENTIALS, expires=expires).add_auth(request)
    return from_botocore(request)


def changed(
    request: Request,
    *,
    path: str | None = None,
    query: str | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> Request:
    path = request.raw_path.decode() if path is None else path
    query = request.raw_query.decode() if query is None else query
    url = f"http://{request.headers['host']}{path}" + (f"?{query}" if query else "")
    return wire_request(request.method, url, request.header_list if headers is None else headers)


class TestHeaderSignaturesFromBotocore:
    @pytest.mark.parametrize(
        "path",
        [
            "/bucket/key.txt",
            "/bucket/",
            "/bucket/a%20b%2Bc/%E6%97%A5.txt",
            "/bucket/key?uploads",
            "/bucket/key?partNumber=1&uploadId=x%2By",
            "/bucket/key?response-content-type=text%2Fplain",
            "/bucket/key?versionId=3&response-content-disposition=attachment%3B%20filename%3Da.txt",
            "/bucket?acl",
            "/bucket?delete",
            "/bucket?list-type=2&prefix=a",
        ],
    )
    def test_a_signed_request_verifies(self, path: str) -> None:
        verify_v2(hmac_v1("GET", path))

    def test_a_put_with_metadata_and_a_content_type_verifies(self) -> None:
        request = hmac_v1(
            "PUT",
            "/bucket/key.txt",
            {
                "x-amz-meta-color": "blue",
                "x-amz-meta-size": "  large  ",
                "Content-Type": "text/plain",
                "Content-MD5": "abc==",
            },
        )
        verify_v2(request)

    def test_a_changed_amz_header_is_refused(self) -> None:
        request = hmac_v1("PUT", "/bucket/key.txt", {"x-amz-meta-color": "blue"})
        headers = [(n, "red" if n == "x-amz-meta-color" else v) for n, v in request.header_list]
        assert refusal(changed(request, headers=headers)).code == "SignatureDoesNotMatch"

    def test_an_added_amz_header_is_refused(self) -> None:
        request = hmac_v1("PUT", "/bucket/key.txt")
        assert refusal(
            changed(request, headers=[*request.header_list, ("x-amz-acl", "public-read")])
        ).code == ("SignatureDoesNotMatch")

    def test_a_changed_content_type_is_refused(self) -> None:
        request = hmac_v1("PUT", "/bucket/key.txt", {"Content-Type": "text/plain"})
        headers = [(n, "text/html" if n == "content-type" else v) for n, v in request.header_list]
        assert refusal(changed(request, headers=headers)).code == "SignatureDoesNotMatch"

    def test_another_key_is_refused(self) -> None:
        assert refusal(changed(hmac_v1("GET", "/bucket/key.txt"), path="/bucket/other.txt")).code == (
            "SignatureDoesNotMatch"
        )

    def test_another_upload_id_is_refused(self) -> None:
        request = hmac_v1("PUT", "/bucket/key?partNumber=1&uploadId=x")
        assert refusal(changed(request, query="partNumber=1&uploadId=y")).code == "SignatureDoesNotMatch"

    def test_an_added_response_override_is_refused(self) -> None:
        request = hmac_v1("GET", "/bucket/key")
        assert (
            refusal(changed(request, query="response-content-type=text%2Fhtml")).code
            == "SignatureDoesNotMatch"
        )

    def test_parameters_that_are_not_subresources_are_not_signed(self) -> None:
        request = hmac_v1("GET", "/bucket?prefix=a")
        verify_v2(changed(request, query="prefix=b"))

    def test_another_method_is_refused(self) -> None:
        request = hmac_v1("GET", "/bucket/key")
        other = wire_request("DELETE", f"http://{request.headers['host']}/bucket/key", request.header_list)
        assert refusal(other).code == "SignatureDoesNotMatch"

    def test_the_wrong_secret_is_refused(self) -> None:
        assert refusal(hmac_v1("GET", "/bucket/key"), secret="not it").code == "SignatureDoesNotMatch"

    def test_an_x_amz_date_added_by_the_caller_is_signed_as_botocore_signs_it(self) -> None:
        request = hmac_v1("GET", "/bucket/key", {"x-amz-date": email.utils.formatdate(usegmt=True)})
        verify_v2(request)

    def test_a_request_more_than_fifteen_minutes_old_is_too_skewed(self) -> None:
        request = hmac_v1("GET", "/bucket/key")
        date = parse_http_date(request.headers["date"])
        assert date is not None
        verify_v2(request, now=date + 900)
        assert refusal(request, now=date + 901).code == "RequestTimeTooSkewed"
        assert refusal(request, now=date - 901).code == "RequestTimeTooSkewed"

    def test_a_request_without_a_date_is_access_denied(self) -> None:
        request = hmac_v1("GET", "/bucket/key")
        headers = [(n, v) for n, v in request.header_list if n != "date"]
        assert refusal(changed(request, headers=headers), now=0).code == "AccessDenied"


class TestPresignedUrlsFromBotocore:
    def test_a_presigned_get_verifies_until_it_expires(self) -> None:
        request = hmac_v1_presigned("GET", "/bucket/key.txt")
        expires = int(request.query["Expires"])
        verify_v2(request, now=expires)
        error = refusal(request, now=expires + 1)
        assert (error.code, error.message, error.status) == ("AccessDenied", "Request has expired", 403)

    def test_a_presigned_url_with_subresources_verifies(self) -> None:
        verify_v2(hmac_v1_presigned("PUT", "/bucket/key?partNumber=2&uploadId=abc"))

    def test_a_later_expiry_in_the_url_is_refused(self) -> None:
        request = hmac_v1_presigned("GET", "/bucket/key.txt")
        later = str(int(request.query["Expires"]) + 3600)
        query = request.raw_query.decode().replace(request.query["Expires"], later)
        assert refusal(changed(request, query=query), now=0).code == "SignatureDoesNotMatch"

    def test_a_presigned_url_for_another_key_is_refused(self) -> None:
        request = hmac_v1_presigned("GET", "/bucket/key.txt")
        assert refusal(changed(request, path="/bucket/other.txt")).code == "SignatureDoesNotMatch"

    def test_boto3s_generate_presigned_url_with_a_response_override_verifies(self) -> None:
        url = client(signature_version="s3").generate_presigned_url(
            "get_object",
            Params={"Bucket": "bucket", "Key": "a b/日本.txt", "ResponseContentType": "text/plain"},
        )
        verify_v2(wire_request("GET", url))

    @pytest.mark.parametrize(
        ("query", "code"),
        [
            ({"AWSAccessKeyId": ACCESS_KEY, "Signature": "x"}, "AccessDenied"),
            ({"AWSAccessKeyId": ACCESS_KEY, "Expires": "1"}, "AccessDenied"),
            ({"AWSAccessKeyId": ACCESS_KEY, "Signature": "x", "Expires": "tomorrow"}, "AccessDenied"),
            ({"AWSAccessKeyId": ACCESS_KEY, "Signature": "x", "Expires": "²"}, "AccessDenied"),
        ],
    )
    def test_a_url_missing_or_mangling_its_parameters_is_refused(
        self, query: dict[str, str], code: str
    ) -> None:
        with pytest.raises(AuthError) as caught:
            sigv2.parse_query(query)
        assert caught.value.code == code


class TestRequestsSentByBoto3WithSignatureVersion2:
    def test_a_put_object_with_metadata_verifies(self) -> None:
        sent = sent_by(
            client(signature_version="s3"),
            lambda s3: s3.put_object(
                Bucket="bucket",
                Key="dir/a b+c.txt",
                Body=b"x",
                Metadata={"color": "blue"},
                ContentType="text/plain",
            ),
        )
        verify_v2(sent.request())

    def test_create_multipart_upload_verifies(self) -> None:
        sent = sent_by(
            client(signature_version="s3"), lambda s3: s3.create_multipart_upload(Bucket="bucket", Key="big")
        )
        verify_v2(sent.request())

    def test_upload_part_verifies(self) -> None:
        sent = sent_by(
            client(signature_version="s3"),
            lambda s3: s3.upload_part(
                Bucket="bucket", Key="big", UploadId="u+1/2", PartNumber=3, Body=b"part"
            ),
        )
        verify_v2(sent.request())

    def test_a_virtual_hosted_get_verifies_with_the_bucket_from_the_host(self) -> None:
        s3 = client("http://s3.example.com:9000", signature_version="s3", s3={"addressing_style": "virtual"})
        sent = sent_by(
            s3, lambda s3: s3.get_object(Bucket="bucket", Key="k", ResponseContentType="text/plain")
        )
        assert sent.url.startswith("http://bucket.s3.example.com:9000/k?")
        verify_v2(sent.request(), bucket="bucket")


class TestParsingTheHeader:
    def test_another_scheme_is_not_v2(self) -> None:
        assert sigv2.parse_header("AWS4-HMAC-SHA256 Credential=x") is None

    def test_the_access_key_and_signature_are_split_at_the_last_colon(self) -> None:
        assert sigv2.parse_header("AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=") == (
            sigv2.V2Authorization("AKIAIOSFODNN7EXAMPLE", "frJIUN8DYpKDtOLCwo//yllqDzg=")
        )

    @pytest.mark.parametrize("value", ["AWS ", "AWS AKIAIOSFODNN7EXAMPLE", "AWS :signature"])
    def test_a_header_without_a_key_and_a_signature_is_invalid(self, value: str) -> None:
        with pytest.raises(AuthError) as caught:
            sigv2.parse_header(value)
        assert (caught.value.code, caught.value.status) == ("InvalidArgument", 400)
