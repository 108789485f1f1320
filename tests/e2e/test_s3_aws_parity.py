"""S3 answers as AWS gave them: each case is a recording kept in LocalStack's AWS-validated
snapshots (tests/aws/services/s3/*.snapshot.json, named by test and snapshot key), replayed
against strato with boto3."""

from __future__ import annotations

import datetime
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.web import get
from tests.servers import StratoServer

NO_SUCH_VERSION = "The specified version does not exist."
TAGGING_HEADER_MESSAGE = (
    "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name "
    "duplicates."
)


def refusal(call: Any, **params: Any) -> dict[str, Any]:
    """The Error a refused call answered, with its HTTP status under "Status"."""
    with pytest.raises(ClientError) as caught:
        call(**params)
    error: dict[str, Any] = dict(caught.value.response["Error"])
    error["Status"] = caught.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return error


class TestErrorDocuments:
    """test_s3_api.py TestS3ObjectCRUD::test_delete_object_versioned "get-deleted-object":
    an error names its Code, Message and own fields; S3 sends no Resource."""

    def test_a_missing_key_is_code_message_and_key_only(self, s3: Any, bucket: str) -> None:
        assert refusal(s3.get_object, Bucket=bucket, Key="test-delete") == {
            "Code": "NoSuchKey", "Key": "test-delete", "Message": "The specified key does not exist.", "Status": 404,
        }

    def test_the_raw_error_document_has_no_resource_element(self, server: StratoServer, bucket: str) -> None:
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{server.url}/{bucket}/missing")
        document = caught.value.read().decode()
        assert "<Code>AccessDenied</Code>" in document
        assert "<Resource>" not in document
        assert "<RequestId>" in document
        assert "<HostId>" in document


class TestDeleteObjects:
    def test_a_version_id_that_names_nothing_is_no_such_version_in_the_batch(self, s3: Any, bucket: str) -> None:
        """test_s3_api.py TestS3ObjectCRUD::test_delete_objects "delete-object-wrong-version-id"."""
        s3.put_object(Bucket=bucket, Key="test-delete", Body=b"test-delete")
        version = "HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD"
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "test-delete", "VersionId": version}]})
        assert answer["Errors"] == [
            {"Code": "NoSuchVersion", "Key": "test-delete", "Message": NO_SUCH_VERSION, "VersionId": version},
        ]
        assert s3.get_object(Bucket=bucket, Key="test-delete")["Body"].read() == b"test-delete"

    def test_the_null_version_is_still_deleted(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k", "VersionId": "null"}]})
        assert answer["Deleted"] == [{"Key": "k", "VersionId": "null"}]


class TestTagging:
    """test_s3_api.py TestS3BucketObjectTagging::test_tagging_validation and
    test_put_object_with_tags ("put-obj-wrong-format")."""

    @pytest.mark.parametrize(("tags", "expected"), [
        ([{"Key": "Key1", "Value": "a"}, {"Key": "Key1", "Value": "b"}],
         {"Message": "Cannot provide multiple Tags with the same key", "TagKey": "Key1"}),
        ([{"Key": "Key1,Key2", "Value": "a"}],
         {"Message": "The TagKey you have provided is invalid", "TagKey": "Key1,Key2"}),
        ([{"Key": "Key1", "Value": "Val1,Val2"}],
         {"Message": "The TagValue you have provided is invalid", "TagKey": "Key1", "TagValue": "Val1,Val2"}),
        ([{"Key": "aws:prefixed", "Value": "a"}],
         {"Message": "System tags cannot be added/updated by requester", "TagKey": "aws:prefixed"}),
    ])
    def test_a_refused_bucket_tag_is_named(
        self, s3: Any, bucket: str, tags: list[dict[str, str]], expected: dict[str, str]
    ) -> None:
        error = refusal(s3.put_bucket_tagging, Bucket=bucket, Tagging={"TagSet": tags})
        assert error == {"Code": "InvalidTag", "Status": 400, **expected}

    def test_an_aws_prefixed_object_tag_is_named(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        error = refusal(s3.put_object_tagging, Bucket=bucket, Key="k",
                        Tagging={"TagSet": [{"Key": "aws:prefixed", "Value": "a"}]})
        assert error == {"Code": "InvalidTag", "Message": "Your TagKey cannot be prefixed with aws:",
                         "TagKey": "aws:prefixed", "Status": 400}

    @pytest.mark.parametrize("header", ["key1=val1&key1=val2", "key1=val1,key2=val2"])
    def test_an_unreadable_tagging_header_is_invalid_argument(self, s3: Any, bucket: str, header: str) -> None:
        error = refusal(s3.put_object, Bucket=bucket, Key="k", Body=b"x", Tagging=header)
        assert error == {"Code": "InvalidArgument", "Message": TAGGING_HEADER_MESSAGE,
                         "ArgumentName": "x-amz-tagging", "ArgumentValue": header, "Status": 400}


class TestCreateBucket:
    def test_an_unknown_object_ownership_is_invalid_argument(self, s3: Any) -> None:
        """test_s3_api.py TestS3BucketOwnershipControls::test_bucket_ownership_controls_exc
        "ownership-wrong-value-at-creation"."""
        name = f"test-{uuid.uuid4().hex[:20]}"
        error = refusal(s3.create_bucket, Bucket=name, ObjectOwnership="RandomValue")
        assert error == {"Code": "InvalidArgument", "Message": "Invalid x-amz-object-ownership header: RandomValue",
                         "ArgumentName": "x-amz-object-ownership", "Status": 400}

    def test_a_known_object_ownership_is_accepted(self, s3: Any) -> None:
        name = f"test-{uuid.uuid4().hex[:20]}"
        s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerEnforced")
        s3.head_bucket(Bucket=name)


FOLDER_KEYS = ["folder/aSubfolder/subFile1", "folder/aSubfolder/subFile2", "folder/file1", "folder/file2"]


class TestListObjectVersions:
    def test_a_page_ending_on_a_common_prefix_names_no_next_version_id_marker(self, s3: Any, bucket: str) -> None:
        """test_s3_list_operations.py TestS3ListObjectVersions::
        test_list_object_versions_pagination_common_prefixes "list-object-versions-start" and "-next-1"."""
        for key in FOLDER_KEYS:
            s3.put_object(Bucket=bucket, Key=key, Body=b"abcdefghijk")
        first = s3.list_object_versions(Bucket=bucket, Prefix="folder/", Delimiter="/", MaxKeys=1)
        assert first["CommonPrefixes"] == [{"Prefix": "folder/aSubfolder/"}]
        assert (first["IsTruncated"], first["NextKeyMarker"]) == (True, "folder/aSubfolder/")
        assert "NextVersionIdMarker" not in first
        second = s3.list_object_versions(Bucket=bucket, Prefix="folder/", Delimiter="/", MaxKeys=1,
                                         KeyMarker="folder/aSubfolder/")
        assert [v["Key"] for v in second["Versions"]] == ["folder/file1"]
        assert (second["NextKeyMarker"], second["NextVersionIdMarker"]) == ("folder/file1", "null")


class TestListMultipartUploads:
    """test_s3_list_operations.py TestS3ListMultipartUploads::test_list_multiparts_next_marker."""

    def test_an_empty_listing_names_empty_next_markers(self, s3: Any, bucket: str) -> None:
        answer = s3.list_multipart_uploads(Bucket=bucket)
        assert (answer["NextKeyMarker"], answer["NextUploadIdMarker"]) == ("", "")

    def test_a_whole_listing_names_its_last_upload_as_next_markers(self, s3: Any, bucket: str) -> None:
        uploads = [(key, s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]) for key in ("k1", "k2")]
        answer = s3.list_multipart_uploads(Bucket=bucket)
        assert answer["IsTruncated"] is False
        assert (answer["NextKeyMarker"], answer["NextUploadIdMarker"]) == uploads[-1]

    def test_an_upload_id_marker_without_a_key_marker_is_ignored(self, s3: Any, bucket: str) -> None:
        first = s3.create_multipart_upload(Bucket=bucket, Key="k1")["UploadId"]
        s3.create_multipart_upload(Bucket=bucket, Key="k2")
        answer = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1, UploadIdMarker=first)
        assert answer["UploadIdMarker"] == ""
        assert [u["UploadId"] for u in answer["Uploads"]] == [first]


class TestListParts:
    """test_s3_list_operations.py TestS3ListParts::test_list_parts_pagination."""

    def test_every_page_names_its_next_part_number_marker(self, s3: Any, bucket: str) -> None:
        upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
        assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload)["NextPartNumberMarker"] == 0
        for number in (1, 2):
            s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number, Body=b"data")
        whole = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload)
        assert (whole["IsTruncated"], whole["NextPartNumberMarker"]) == (False, 2)
        past = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload, MaxParts=1, PartNumberMarker=10)
        assert (past["IsTruncated"], past["NextPartNumberMarker"], past["PartNumberMarker"]) == (False, 0, 10)
        s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)


class TestDigestsAndHeads:
    @pytest.mark.parametrize("md5", ["__invalid__", "000", "MTIz"])
    def test_an_unreadable_content_md5_is_named_in_invalid_digest(self, s3: Any, bucket: str, md5: str) -> None:
        """test_s3.py TestS3::test_s3_invalid_content_md5 "md5-error-N"."""
        error = refusal(s3.put_object, Bucket=bucket, Key="k", Body=b"something", ContentMD5=md5)
        assert error == {"Code": "InvalidDigest", "Message": "The Content-MD5 you specified was invalid.",
                         "Content-MD5": md5, "Status": 400}

    def test_head_bucket_says_it_is_no_access_point_alias(self, s3: Any, bucket: str) -> None:
        """test_s3.py TestS3::test_create_bucket_head_bucket "head_bucket_filtered_header"."""
        answer = s3.head_bucket(Bucket=bucket)
        assert answer["AccessPointAlias"] is False
        assert answer["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/xml"


class TestCopySourceConditions:
    """test_s3_preconditions.py TestS3CopySourcePreconditions::test_s3_copy_object_preconditions
    "copy-precondition-*": the Condition names the copy-source header that failed."""

    @pytest.mark.parametrize(("argument", "header"), [
        ("CopySourceIfMatch", "x-amz-copy-source-If-Match"),
        ("CopySourceIfUnmodifiedSince", "x-amz-copy-source-If-Unmodified-Since"),
        ("CopySourceIfNoneMatch", "x-amz-copy-source-If-None-Match"),
        ("CopySourceIfModifiedSince", "x-amz-copy-source-If-Modified-Since"),
    ])
    def test_the_failed_condition_is_named(self, s3: Any, bucket: str, argument: str, header: str) -> None:
        s3.put_object(Bucket=bucket, Key="src", Body=b"data")
        head = s3.head_object(Bucket=bucket, Key="src")
        values = {
            "CopySourceIfMatch": '"0123456789abcdef0123456789abcdef"',
            "CopySourceIfUnmodifiedSince": head["LastModified"] - datetime.timedelta(days=1),
            "CopySourceIfNoneMatch": head["ETag"],
            "CopySourceIfModifiedSince": head["LastModified"],
        }
        error = refusal(s3.copy_object, Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                        **{argument: values[argument]})
        assert error == {"Code": "PreconditionFailed", "Condition": header,
                         "Message": "At least one of the pre-conditions you specified did not hold", "Status": 412}


class TestPaginatorsAcrossTheNewMarkers:
    """Not a recording: boto3's paginators, one item a page, still walk a delimited listing whose
    pages end on common prefixes (no NextVersionIdMarker, an empty NextUploadIdMarker) to its end,
    seeing every key and prefix once."""

    KEYS = ("a/1", "a/2", "b", "c/1", "d")

    def test_list_object_versions(self, s3: Any, bucket: str) -> None:
        for key in self.KEYS:
            s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        pages = list(s3.get_paginator("list_object_versions").paginate(
            Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1}))
        assert [v["Key"] for page in pages for v in page.get("Versions", [])] == ["b", "d"]
        assert [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])] == ["a/", "c/"]

    def test_list_multipart_uploads(self, s3: Any, bucket: str) -> None:
        made = [(key, s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]) for key in self.KEYS]
        pages = list(s3.get_paginator("list_multipart_uploads").paginate(
            Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1}))
        assert [(u["Key"], u["UploadId"]) for page in pages for u in page.get("Uploads", [])] == [
            upload for upload in made if "/" not in upload[0]]
        assert [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])] == ["a/", "c/"]
        for key, upload_id in made:
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


NO_SUCH_UPLOAD = (
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or "
    "completed."
)
INVALID_PART = (
    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified "
    "entity tag may not match the part's entity tag."
)


class TestMultipartErrors:
    """test_s3.py TestS3: the refusals of a multipart upload name what they refuse."""

    def _upload_with_two_small_parts(self, s3: Any, bucket: str) -> tuple[str, list[dict[str, Any]]]:
        upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
        parts = [{"ETag": s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=n, Body=b"data")["ETag"],
                  "PartNumber": n} for n in (1, 2)]
        return upload, parts

    @pytest.mark.parametrize("operation", ["upload", "complete", "abort"])
    def test_an_unknown_upload_id_is_no_such_upload(self, s3: Any, bucket: str, operation: str) -> None:
        """test_multipart_no_such_upload "upload-exc", "complete-exc", "abort-exc"."""
        calls = {
            "upload": lambda: s3.upload_part(Bucket=bucket, Key="k", UploadId="fakeid", PartNumber=1, Body=b"x"),
            "complete": lambda: s3.complete_multipart_upload(
                Bucket=bucket, Key="k", UploadId="fakeid",
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]}),
            "abort": lambda: s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId="fakeid"),
        }
        assert refusal(calls[operation]) == {
            "Code": "NoSuchUpload", "Message": NO_SUCH_UPLOAD, "UploadId": "fakeid", "Status": 404}

    def test_a_small_part_is_named_with_its_size_and_the_minimum(self, s3: Any, bucket: str) -> None:
        """test_multipart_complete_multipart_too_small "complete-exc-too-small"."""
        upload, parts = self._upload_with_two_small_parts(s3, bucket)
        error = refusal(s3.complete_multipart_upload, Bucket=bucket, Key="mp", UploadId=upload,
                        MultipartUpload={"Parts": parts})
        assert error == {
            "Code": "EntityTooSmall", "Message": "Your proposed upload is smaller than the minimum allowed size",
            "ETag": parts[0]["ETag"].strip('"'), "MinSizeAllowed": "5242880", "PartNumber": "1", "ProposedSize": "4",
            "Status": 400,
        }

    @pytest.mark.parametrize(("number", "etag"), [(3, None), (1, "d41d8cd98f00b204e9800998ecf8427e")],
                             ids=["wrong-part-number", "wrong-etag"])
    def test_a_part_not_found_is_named_with_the_etag_sent(
        self, s3: Any, bucket: str, number: int, etag: str | None
    ) -> None:
        """test_multipart_complete_multipart_wrong_part "complete-exc-wrong-part-number", "-wrong-etag"."""
        upload, parts = self._upload_with_two_small_parts(s3, bucket)
        sent = etag or parts[0]["ETag"].strip('"')
        error = refusal(s3.complete_multipart_upload, Bucket=bucket, Key="mp", UploadId=upload,
                        MultipartUpload={"Parts": [{"PartNumber": number, "ETag": f'"{sent}"'}]})
        assert error == {"Code": "InvalidPart", "Message": INVALID_PART, "ETag": sent, "PartNumber": str(number),
                         "UploadId": upload, "Status": 400}

    def test_parts_out_of_order_name_the_upload(self, s3: Any, bucket: str) -> None:
        """test_complete_multipart_parts_order "complete-multipart-unordered"."""
        upload, parts = self._upload_with_two_small_parts(s3, bucket)
        error = refusal(s3.complete_multipart_upload, Bucket=bucket, Key="mp", UploadId=upload,
                        MultipartUpload={"Parts": parts[::-1]})
        assert error == {
            "Code": "InvalidPartOrder", "UploadId": upload, "Status": 400,
            "Message": "The list of parts was not in ascending order. Parts must be ordered by part number.",
        }


class TestObjectRequests:
    def test_the_outposts_storage_class_is_refused(self, s3: Any, bucket: str) -> None:
        """test_s3.py TestS3::test_put_object_storage_class_outposts "put-object-outposts",
        "create-multipart-outposts-exc"."""
        expected = {"Code": "InvalidStorageClass", "Message": "The storage class you specified is not valid",
                    "StorageClassRequested": "OUTPOSTS", "Status": 400}
        assert refusal(s3.put_object, Bucket=bucket, Key="k", Body=b"x", StorageClass="OUTPOSTS") == expected
        assert refusal(s3.create_multipart_upload, Bucket=bucket, Key="k", StorageClass="OUTPOSTS") == expected

    def test_a_part_number_with_a_range_is_an_invalid_request(self, s3: Any, bucket: str) -> None:
        """test_s3.py TestS3::test_get_object_part "part-with-range"."""
        s3.put_object(Bucket=bucket, Key="k", Body=b"test-123")
        assert refusal(s3.get_object, Bucket=bucket, Key="k", PartNumber=1, Range="bytes=0-3") == {
            "Code": "InvalidRequest", "Message": "Cannot specify both Range header and partNumber query parameter",
            "Status": 400}

    @pytest.mark.parametrize("method", ["get_object", "head_object"])
    def test_an_if_modified_since_in_the_future_is_ignored(self, s3: Any, bucket: str, method: str) -> None:
        """test_s3.py TestS3::test_s3_get_object_preconditions "obj-ignore-future-modified-since"."""
        s3.put_object(Bucket=bucket, Key="k", Body=b"data")
        future = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
        assert getattr(s3, method)(Bucket=bucket, Key="k", IfModifiedSince=future)["ETag"] == (
            '"8d777f385d3dfec8815d20f7496026dc"')

    def test_a_copy_source_if_modified_since_in_the_future_is_ignored(self, s3: Any, bucket: str) -> None:
        """test_s3.py TestS3::test_s3_copy_object_preconditions "copy-ignore-future-modified-since"."""
        s3.put_object(Bucket=bucket, Key="src", Body=b"data")
        future = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
        answer = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                                CopySourceIfModifiedSince=future)
        assert answer["CopyObjectResult"]["ETag"] == '"8d777f385d3dfec8815d20f7496026dc"'

    def test_a_copy_onto_itself_with_a_website_redirect_location_is_legal(self, s3: Any, bucket: str) -> None:
        """test_s3.py TestS3::test_s3_copy_object_in_place_website_redirect_location
        "copy-object-in-place-with-website-redirection": even the source's own location."""
        s3.put_object(Bucket=bucket, Key="k", Body=b"test", WebsiteRedirectLocation="/test/direct")
        s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"},
                       WebsiteRedirectLocation="/test/direct")
        assert s3.head_object(Bucket=bucket, Key="k")["WebsiteRedirectLocation"] == "/test/direct"

    def test_a_copy_keeping_metadata_takes_a_new_website_redirect_location(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"test", Metadata={"a": "b"})
        s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"},
                       WebsiteRedirectLocation="/elsewhere")
        head = s3.head_object(Bucket=bucket, Key="k")
        assert (head["WebsiteRedirectLocation"], head["Metadata"]) == ("/elsewhere", {"a": "b"})

    def test_malformed_xml_is_worded_as_s3_words_it(self, s3: Any, bucket: str) -> None:
        """test_s3_cors.py TestS3Cors::test_put_cors_invalid_rules "put-cors-exc-empty" (and every
        recorded MalformedXML): no final full stop."""
        assert refusal(s3.put_bucket_cors, Bucket=bucket, CORSConfiguration={"CORSRules": []}) == {
            "Code": "MalformedXML", "Status": 400,
            "Message": "The XML you provided was not well-formed or did not validate against our published schema"}


def options(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    return get(url, method="OPTIONS", headers=headers)[::2]


class TestPreflightsWithoutCors:
    """test_s3_cors.py TestS3Cors::test_cors_http_options_no_config and
    test_cors_http_options_non_existent_bucket: refused on the bucket, naming OPTIONS when no
    method is requested."""

    def test_a_bucket_without_cors_refuses_on_the_bucket(self, server: StratoServer, bucket: str) -> None:
        url = f"{server.url}/{bucket}/key"
        status, body = options(url, {"Origin": "whatever", "Access-Control-Request-Method": "PUT"})
        assert status == 403
        assert (b"<Code>AccessForbidden</Code><Message>CORSResponse: CORS is not enabled for this bucket.</Message>"
                b"<Method>PUT</Method><ResourceType>BUCKET</ResourceType>") in body
        status, body = options(url, {"Origin": "whatever"})
        assert status == 403
        assert b"<Method>OPTIONS</Method><ResourceType>BUCKET</ResourceType>" in body

    def test_a_missing_bucket_is_not_found_by_cors(self, server: StratoServer) -> None:
        url = f"{server.url}/fake-bucket-{uuid.uuid4().hex[:12]}/key"
        status, body = options(url, {})
        assert status == 400
        assert b"<Message>Insufficient information. Origin request header needed.</Message>" in body
        status, body = options(url, {"Origin": "whatever"})
        assert status == 403
        assert (b"<Code>AccessForbidden</Code><Message>CORSResponse: Bucket not found</Message>"
                b"<Method>OPTIONS</Method><ResourceType>BUCKET</ResourceType>") in body
