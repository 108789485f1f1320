"""Buckets as a boto3 user meets them: naming rules, creation, existence, deletion, listing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.client_errors import error_of


def unique(prefix: str = "bkt") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


class TestCreatingABucket:
    def test_a_new_bucket_can_be_created_and_then_exists(self, s3: Any) -> None:
        name = unique()
        created = s3.create_bucket(Bucket=name)
        assert created["Location"] == f"/{name}"
        assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200

    @pytest.mark.parametrize("name", [
        pytest.param("ab", id="too-short"),
        pytest.param("a" * 64, id="too-long"),
        pytest.param("MyBucket", id="uppercase"),
        pytest.param("192.168.5.4", id="ip-address"),
        pytest.param("my..bucket", id="adjacent-dots"),
        pytest.param("xn--bucket", id="xn-prefix"),
        pytest.param("-bucket", id="leading-dash"),
        pytest.param("bucket-", id="trailing-dash"),
        pytest.param("my_bucket", id="underscore"),
        pytest.param("bucket-s3alias", id="s3alias-suffix"),
    ])
    def test_a_name_breaking_the_naming_rules_is_refused(self, s3: Any, name: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.create_bucket(Bucket=name)
        assert error_of(caught) == ("InvalidBucketName", 400)

    @pytest.mark.parametrize("template", [
        pytest.param("{}", id="three-characters"),
        pytest.param("a{}" + "b" * 28 + "c" * 29, id="sixty-three-characters"),
        pytest.param("my.dotted-{}.name", id="dots-and-dashes"),
        pytest.param("0{}-starts-with-a-digit", id="leading-digit"),
    ])
    def test_a_name_at_the_limits_of_the_rules_is_accepted(self, s3: Any, template: str) -> None:
        name = template.format(uuid.uuid4().hex[:3])
        s3.create_bucket(Bucket=name)
        assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200

    def test_creating_a_bucket_twice_says_you_already_own_it(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.create_bucket(Bucket=bucket)
        assert error_of(caught) == ("BucketAlreadyOwnedByYou", 409)

    def test_a_location_constraint_is_reported_back_as_the_bucket_location(self, s3: Any) -> None:
        name = unique()
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
        assert s3.head_bucket(Bucket=name)["BucketRegion"] == "eu-west-1"

    def test_a_bucket_in_us_east_1_has_an_empty_location(self, s3: Any, bucket: str) -> None:
        assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
        assert s3.head_bucket(Bucket=bucket)["BucketRegion"] == "us-east-1"


class TestBucketExistence:
    def test_head_of_a_missing_bucket_is_404(self, s3: Any) -> None:
        with pytest.raises(ClientError) as caught:
            s3.head_bucket(Bucket=unique("missing"))
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    def test_the_location_of_a_missing_bucket_is_no_such_bucket(self, s3: Any) -> None:
        with pytest.raises(ClientError) as caught:
            s3.get_bucket_location(Bucket=unique("missing"))
        assert error_of(caught) == ("NoSuchBucket", 404)

    def test_the_bucket_waiters_see_creation_and_deletion(self, s3: Any) -> None:
        name = unique()
        s3.create_bucket(Bucket=name)
        s3.get_waiter("bucket_exists").wait(Bucket=name, WaiterConfig={"Delay": 0, "MaxAttempts": 1})
        s3.delete_bucket(Bucket=name)
        s3.get_waiter("bucket_not_exists").wait(Bucket=name, WaiterConfig={"Delay": 0, "MaxAttempts": 1})


class TestDeletingABucket:
    def test_an_empty_bucket_is_deleted_and_then_missing(self, s3: Any, bucket: str) -> None:
        response = s3.delete_bucket(Bucket=bucket)
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
        with pytest.raises(ClientError) as caught:
            s3.head_bucket(Bucket=bucket)
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    def test_a_bucket_holding_an_object_is_not_empty(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="keep.txt", Body=b"still here")
        with pytest.raises(ClientError) as caught:
            s3.delete_bucket(Bucket=bucket)
        assert error_of(caught) == ("BucketNotEmpty", 409)
        assert s3.get_object(Bucket=bucket, Key="keep.txt")["Body"].read() == b"still here"

    def test_uploads_in_progress_are_aborted_with_the_bucket(self, s3: Any, bucket: str) -> None:
        upload = s3.create_multipart_upload(Bucket=bucket, Key="big.bin")
        s3.upload_part(Bucket=bucket, Key="big.bin", UploadId=upload["UploadId"], PartNumber=1, Body=b"x")
        s3.delete_bucket(Bucket=bucket)
        s3.create_bucket(Bucket=bucket)
        assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
        with pytest.raises(ClientError) as caught:
            s3.list_parts(Bucket=bucket, Key="big.bin", UploadId=upload["UploadId"])
        assert error_of(caught) == ("NoSuchUpload", 404)

    def test_a_bucket_emptied_of_its_objects_can_be_deleted(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="a", Body=b"1")
        s3.delete_object(Bucket=bucket, Key="a")
        s3.delete_bucket(Bucket=bucket)
        assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    def test_deleting_a_missing_bucket_is_no_such_bucket(self, s3: Any) -> None:
        with pytest.raises(ClientError) as caught:
            s3.delete_bucket(Bucket=unique("missing"))
        assert error_of(caught) == ("NoSuchBucket", 404)

    def test_a_deleted_name_can_be_created_again(self, s3: Any, bucket: str) -> None:
        s3.delete_bucket(Bucket=bucket)
        s3.create_bucket(Bucket=bucket)
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


class TestListingBuckets:
    def test_a_created_bucket_is_listed_with_its_creation_date_and_owner(self, s3: Any, bucket: str) -> None:
        listed = s3.list_buckets()
        entry = next(b for b in listed["Buckets"] if b["Name"] == bucket)
        assert entry["CreationDate"].tzinfo is not None
        assert listed["Owner"]["ID"]

    def test_buckets_are_listed_in_name_order(self, s3: Any) -> None:
        names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert names == sorted(names)

    def test_a_prefix_lists_only_the_buckets_that_start_with_it(self, s3: Any) -> None:
        family = unique("fam")
        names = [f"{family}-{i}" for i in range(3)]
        for name in names:
            s3.create_bucket(Bucket=name)
        s3.create_bucket(Bucket=unique("other"))
        listed = s3.list_buckets(Prefix=family)
        assert [b["Name"] for b in listed["Buckets"]] == names
        assert listed["Prefix"] == family

    def test_max_buckets_pages_through_every_bucket_with_continuation_tokens(self, s3: Any) -> None:
        family = unique("page")
        names = [f"{family}-{i:02d}" for i in range(7)]
        for name in names:
            s3.create_bucket(Bucket=name)
        seen: list[str] = []
        pages = 0
        kwargs: dict[str, Any] = {"Prefix": family, "MaxBuckets": 3}
        while True:
            page = s3.list_buckets(**kwargs)
            pages += 1
            seen += [b["Name"] for b in page["Buckets"]]
            if "ContinuationToken" not in page:
                break
            kwargs["ContinuationToken"] = page["ContinuationToken"]
        assert seen == names
        assert pages == 3

    def test_the_list_buckets_paginator_walks_every_page(self, s3: Any) -> None:
        family = unique("pgr")
        names = [f"{family}-{i}" for i in range(5)]
        for name in names:
            s3.create_bucket(Bucket=name)
        pages = s3.get_paginator("list_buckets").paginate(Prefix=family, PaginationConfig={"PageSize": 2})
        assert [b["Name"] for page in pages for b in page["Buckets"]] == names

    def test_max_buckets_over_10000_is_an_invalid_argument(self, s3: Any) -> None:
        with pytest.raises(ClientError) as caught:
            s3.list_buckets(MaxBuckets=10001)
        assert error_of(caught) == ("InvalidArgument", 400)


def test_a_bucket_whose_versioning_was_never_enabled_reports_no_status(s3: Any, bucket: str) -> None:
    answer = s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in answer
    assert "MFADelete" not in answer
