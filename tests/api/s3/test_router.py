"""Routing with the Amazon S3 API reference's own request examples, each sent both
virtual-hosted style (`bucket.s3.example.com`) and path style (`s3.example.com/bucket`)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import pytest

from strato.api.s3.router import Endpoint, bucket_from_host, route
from strato.http.request import Request
from strato.http.types import Message

DOMAINS = ("s3.example.com", "localhost")


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def routed(method: str, url: str, headers: Mapping[str, str] | None = None) -> Endpoint:
    """Route `url` the way the app does: after strato's own Request has parsed it."""
    parts = urlsplit(url)
    scope = {
        "type": "http",
        "method": method,
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "headers": [(b"host", parts.netloc.encode())],
    }
    request = Request.from_scope(scope, _no_body)
    return route(method, request.headers["host"], request.path, request.query, headers or {}, DOMAINS)


def both_styles(
    method: str,
    bucket: str,
    target: str,
    headers: Mapping[str, str] | None = None,
) -> tuple[Endpoint, Endpoint]:
    """`target` is the request-target of the virtual-hosted example: '/key?query'."""
    virtual = routed(method, f"http://{bucket}.s3.example.com{target}", headers)
    path = routed(method, f"http://s3.example.com/{bucket}{target}", headers)
    return virtual, path


def assert_routes(
    method: str,
    target: str,
    operation: str,
    key: str | None,
    headers: Mapping[str, str] | None = None,
    bucket: str = "amzn-s3-demo-bucket",
) -> None:
    virtual, path = both_styles(method, bucket, target, headers)
    assert virtual == Endpoint(operation, bucket, key, virtual_host=True)
    assert path == Endpoint(operation, bucket, key, virtual_host=False)


class TestServiceOperations:
    def test_list_buckets(self) -> None:
        assert routed("GET", "http://s3.example.com/") == Endpoint("ListBuckets")

    def test_list_buckets_with_its_parameters(self) -> None:
        assert routed("GET", "http://s3.example.com/?max-buckets=10&prefix=a") == Endpoint("ListBuckets")

    def test_list_buckets_on_localhost(self) -> None:
        assert routed("GET", "http://localhost:9000/") == Endpoint("ListBuckets")

    @pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "HEAD", "PATCH"])
    def test_other_methods_on_the_service_are_unknown(self, method: str) -> None:
        assert routed(method, "http://s3.example.com/").operation == "Unknown"


class TestBucketOperations:
    def test_create_bucket(self) -> None:
        assert_routes("PUT", "/", "CreateBucket", None)

    def test_create_bucket_without_a_trailing_slash(self) -> None:
        assert routed("PUT", "http://s3.example.com/amzn-s3-demo-bucket") == (
            Endpoint("CreateBucket", "amzn-s3-demo-bucket")
        )

    def test_head_bucket(self) -> None:
        assert_routes("HEAD", "/", "HeadBucket", None)

    def test_delete_bucket(self) -> None:
        assert_routes("DELETE", "/", "DeleteBucket", None)

    def test_list_objects(self) -> None:
        assert_routes("GET", "/?prefix=N&marker=Ned&max-keys=40", "ListObjects", None)

    def test_list_objects_v2(self) -> None:
        assert_routes("GET", "/?list-type=2", "ListObjectsV2", None)
        assert_routes(
            "GET", "/?list-type=2&max-keys=3&prefix=E&start-after=ExampleGuide.pdf", "ListObjectsV2", None
        )

    def test_list_type_other_than_2_is_version_1(self) -> None:
        assert_routes("GET", "/?list-type=1", "ListObjects", None)

    def test_get_bucket_location(self) -> None:
        assert_routes("GET", "/?location", "GetBucketLocation", None)

    def test_list_multipart_uploads(self) -> None:
        assert_routes("GET", "/?uploads", "ListMultipartUploads", None)
        assert_routes("GET", "/?uploads&max-uploads=3", "ListMultipartUploads", None)

    def test_list_object_versions(self) -> None:
        assert_routes("GET", "/?versions", "ListObjectVersions", None)

    def test_delete_objects(self) -> None:
        assert_routes("POST", "/?delete", "DeleteObjects", None)

    def test_a_post_to_the_bucket_without_a_subresource_is_a_browser_form_upload(self) -> None:
        assert_routes("POST", "/", "PostObject", None)

    @pytest.mark.parametrize(
        ("method", "subresource", "operation"),
        [
            ("GET", "versioning", "GetBucketVersioning"),
            ("PUT", "versioning", "PutBucketVersioning"),
            ("GET", "tagging", "GetBucketTagging"),
            ("PUT", "tagging", "PutBucketTagging"),
            ("DELETE", "tagging", "DeleteBucketTagging"),
            ("GET", "policy", "GetBucketPolicy"),
            ("PUT", "policy", "PutBucketPolicy"),
            ("DELETE", "policy", "DeleteBucketPolicy"),
            ("GET", "cors", "GetBucketCors"),
            ("PUT", "lifecycle", "PutBucketLifecycleConfiguration"),
            ("GET", "acl", "GetBucketAcl"),
            ("GET", "policyStatus", "GetBucketPolicyStatus"),
        ],
    )
    def test_bucket_subresources(self, method: str, subresource: str, operation: str) -> None:
        assert_routes(method, f"/?{subresource}", operation, None)

    def test_a_subresource_with_an_empty_value_still_names_it(self) -> None:
        assert_routes("GET", "/?location=", "GetBucketLocation", None)

    def test_dotted_bucket_names_come_whole_from_the_host(self) -> None:
        assert_routes("GET", "/?list-type=2", "ListObjectsV2", None, bucket="my.dotted.bucket")


class TestObjectOperations:
    def test_get_object(self) -> None:
        assert_routes("GET", "/my-image.jpg", "GetObject", "my-image.jpg")

    def test_get_object_of_a_version_with_response_overrides(self) -> None:
        target = "/my-image.jpg?versionId=3HL4kqCxf3vjVBH40Nrjfkd&response-content-type=text%2Fplain"
        assert_routes("GET", target, "GetObject", "my-image.jpg")

    def test_get_object_of_one_part(self) -> None:
        assert_routes("GET", "/my-image.jpg?partNumber=2", "GetObject", "my-image.jpg")

    def test_head_object(self) -> None:
        assert_routes("HEAD", "/my-image.jpg", "HeadObject", "my-image.jpg")

    def test_put_object(self) -> None:
        assert_routes("PUT", "/my-image.jpg", "PutObject", "my-image.jpg")

    def test_delete_object(self) -> None:
        assert_routes("DELETE", "/my-second-image.jpg", "DeleteObject", "my-second-image.jpg")
        assert_routes(
            "DELETE",
            "/my-second-image.jpg?versionId=UIORUnfnd89493jJFJ",
            "DeleteObject",
            "my-second-image.jpg",
        )

    def test_copy_object(self) -> None:
        headers = {"x-amz-copy-source": "/amzn-s3-demo-bucket/my-image.jpg"}
        assert_routes("PUT", "/my-second-image.jpg", "CopyObject", "my-second-image.jpg", headers)

    def test_create_multipart_upload(self) -> None:
        assert_routes("POST", "/example-object?uploads", "CreateMultipartUpload", "example-object")

    def test_upload_part(self) -> None:
        target = (
            "/example-object?partNumber=1&uploadId=VCVsb2FkIElEIGZvciBlbZZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZR"
        )
        assert_routes("PUT", target, "UploadPart", "example-object")

    def test_upload_part_copy(self) -> None:
        target = "/newobject?partNumber=2&uploadId=VCVsb2FkIElEIGZvciBlbZZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZR"
        headers = {
            "x-amz-copy-source": "/source-bucket/sourceobject",
            "x-amz-copy-source-range": "bytes=500-6291456",
        }
        assert_routes("PUT", target, "UploadPartCopy", "newobject", headers)

    def test_a_copy_source_with_only_an_upload_id_is_still_a_copy_not_a_part(self) -> None:
        assert_routes("PUT", "/k?uploadId=x", "CopyObject", "k", {"x-amz-copy-source": "/b/k"})

    def test_complete_multipart_upload(self) -> None:
        target = "/example-object?uploadId=AAAsb2FkIElEIGZvciBlbHZpbmcncyWeeS1tb3ZpZS5tMnRzIRRwbG9hZA"
        assert_routes("POST", target, "CompleteMultipartUpload", "example-object")

    def test_abort_multipart_upload(self) -> None:
        target = "/example-object?uploadId=VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZ"
        assert_routes("DELETE", target, "AbortMultipartUpload", "example-object")

    def test_list_parts(self) -> None:
        target = (
            "/example-object?uploadId=XXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA&max-parts=2"
        )
        assert_routes("GET", target + "&part-number-marker=1", "ListParts", "example-object")

    def test_get_object_attributes(self) -> None:
        headers = {"x-amz-object-attributes": "ETag,Checksum,ObjectParts"}
        assert_routes("GET", "/example-object?attributes", "GetObjectAttributes", "example-object", headers)

    @pytest.mark.parametrize(
        ("method", "subresource", "operation"),
        [
            ("GET", "tagging", "GetObjectTagging"),
            ("PUT", "tagging", "PutObjectTagging"),
            ("DELETE", "tagging", "DeleteObjectTagging"),
            ("GET", "acl", "GetObjectAcl"),
            ("PUT", "acl", "PutObjectAcl"),
            ("POST", "restore", "RestoreObject"),
            ("GET", "retention", "GetObjectRetention"),
            ("PUT", "legal-hold", "PutObjectLegalHold"),
        ],
    )
    def test_object_subresources(self, method: str, subresource: str, operation: str) -> None:
        assert_routes(method, f"/example-object?{subresource}", operation, "example-object")

    def test_a_subresource_beats_a_copy_source(self) -> None:
        assert_routes("PUT", "/k?tagging", "PutObjectTagging", "k", {"x-amz-copy-source": "/b/k"})

    def test_a_post_to_an_object_without_a_subresource_is_unknown(self) -> None:
        assert_routes("POST", "/k", "Unknown", "k")

    def test_a_bucket_subresource_on_an_object_is_not_a_bucket_operation(self) -> None:
        assert_routes("GET", "/k?location", "GetObject", "k")
        assert_routes("GET", "/k?uploads", "GetObject", "k")


class TestKeys:
    @pytest.mark.parametrize(
        ("target", "key"),
        [
            ("/photos/2006/February/sample.jpg", "photos/2006/February/sample.jpg"),
            ("/dir/", "dir/"),
            ("/a//b", "a//b"),
            ("//leading", "/leading"),
            ("///", "//"),
            ("/a%20b+c", "a b+c"),
            ("/a%2Fb", "a/b"),
            ("/what%3F%23", "what?#"),
            ("/%E6%97%A5%E6%9C%AC/%F0%9F%8E%89", "日本/🎉"),
            ("/dots/./and/../", "dots/./and/../"),
            ("/%25", "%"),
        ],
    )
    def test_the_key_is_the_decoded_path_kept_exactly(self, target: str, key: str) -> None:
        assert_routes("GET", target, "GetObject", key)

    def test_a_lone_slash_after_the_bucket_is_the_bucket(self) -> None:
        assert routed("GET", "http://s3.example.com/amzn-s3-demo-bucket/") == (
            Endpoint("ListObjects", "amzn-s3-demo-bucket")
        )


class TestHostStyles:
    @pytest.mark.parametrize(
        "host",
        [
            "bucket.s3.example.com",
            "bucket.s3.example.com:9000",
            "bucket.localhost",
            "bucket.localhost:9000",
            "Bucket.S3.Example.COM:443",
        ],
    )
    def test_a_subdomain_of_a_configured_domain_names_the_bucket(self, host: str) -> None:
        assert routed("GET", f"http://{host}/key") == Endpoint(
            "GetObject", "bucket", "key", virtual_host=True
        )

    @pytest.mark.parametrize(
        "host",
        [
            "s3.example.com",
            "s3.example.com:9000",
            "localhost",
            "localhost:9000",
            "127.0.0.1",
            "127.0.0.1:9000",
            "[::1]",
            "[::1]:9000",
            "10.1.2.3:80",
            "other.example.org",
            "bucket.example.com",
            "xs3.example.com",
        ],
    )
    def test_other_hosts_are_path_style(self, host: str) -> None:
        assert routed("GET", f"http://{host}/bucket/key") == Endpoint("GetObject", "bucket", "key")

    def test_an_empty_host_is_path_style(self) -> None:
        assert route("GET", "", "/bucket/key", {}, {}, DOMAINS) == Endpoint("GetObject", "bucket", "key")

    def test_no_configured_domains_means_path_style_only(self) -> None:
        assert route("GET", "bucket.s3.example.com", "/b/k", {}, {}) == Endpoint("GetObject", "b", "k")

    def test_a_host_that_is_only_a_dot_and_the_domain_names_no_bucket(self) -> None:
        assert bucket_from_host(".s3.example.com", DOMAINS) is None


class TestSeveralConfiguredDomains:
    NESTED = ("example.com", "s3.example.com")

    def test_a_host_that_is_a_configured_domain_is_path_style_even_inside_another(self) -> None:
        assert route("GET", "s3.example.com", "/b/k", {}, {}, self.NESTED) == Endpoint("GetObject", "b", "k")

    def test_the_longest_matching_domain_names_the_bucket(self) -> None:
        assert bucket_from_host("bucket.s3.example.com", self.NESTED) == "bucket"
        assert bucket_from_host("bucket.s3.example.com", tuple(reversed(self.NESTED))) == "bucket"

    def test_a_subdomain_of_only_the_shorter_domain_uses_it(self) -> None:
        assert bucket_from_host("bucket.example.com:9000", self.NESTED) == "bucket"

    def test_configured_domains_compare_case_insensitively(self) -> None:
        assert bucket_from_host("bucket.s3.example.com", ("S3.Example.COM",)) == "bucket"

    def test_a_fully_qualified_host_with_its_final_dot_is_the_same_host(self) -> None:
        assert bucket_from_host("bucket.s3.example.com.:9000", DOMAINS) == "bucket"
