"""Buckets as conformance suites probe them: the naming rules, creating, heading, deleting,
and listing buckets page by page."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.client_errors import error_of


def unique(prefix: str = "conf") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


class TestNames:
    @pytest.mark.parametrize("name", [
        "_" + "x" * 10, "a", "aa", "192.168.5.123", "foo_bar", "foo-", "foo..bar", "foo.-bar", "foo-.bar",
    ])
    def test_a_name_breaking_the_rules_is_invalid_bucket_name(self, s3: Any, name: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.create_bucket(Bucket=name)
        assert error_of(caught) == ("InvalidBucketName", 400)

    @pytest.mark.parametrize("length", [60, 61, 62, 63])
    def test_long_names_up_to_63_characters_are_good(self, s3: Any, length: int) -> None:
        name = unique()
        name += "a" * (length - len(name))
        assert s3.create_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert "Contents" not in s3.list_objects(Bucket=name)

    @pytest.mark.parametrize("template", ["a{}", "0{}", "{}aaa.111", "{}aaa-111"])
    def test_names_starting_with_a_letter_or_digit_with_periods_or_hyphens_are_good(
        self, s3: Any, template: str
    ) -> None:
        name = template.format(uuid.uuid4().hex[:12])
        assert s3.create_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200


class TestLifecycle:
    def test_a_new_bucket_heads_and_lists_empty(self, s3: Any, bucket: str) -> None:
        assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert "Contents" not in s3.list_objects(Bucket=bucket)

    def test_two_buckets_do_not_share_objects(self, s3: Any, bucket: str) -> None:
        other = unique()
        s3.create_bucket(Bucket=other)
        s3.put_object(Bucket=bucket, Key="asdf", Body=b"str")
        assert "Contents" not in s3.list_objects(Bucket=other)

    def test_a_missing_bucket_heads_404_and_deletes_no_such_bucket(self, s3: Any) -> None:
        name = unique()
        with pytest.raises(ClientError) as caught:
            s3.head_bucket(Bucket=name)
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        with pytest.raises(ClientError) as caught:
            s3.delete_bucket(Bucket=name)
        assert error_of(caught) == ("NoSuchBucket", 404)

    def test_a_deleted_bucket_is_gone(self, s3: Any, bucket: str) -> None:
        s3.delete_bucket(Bucket=bucket)
        with pytest.raises(ClientError) as caught:
            s3.delete_bucket(Bucket=bucket)
        assert error_of(caught) == ("NoSuchBucket", 404)

    def test_a_bucket_with_an_object_is_not_empty(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="foo", Body=b"foo")
        with pytest.raises(ClientError) as caught:
            s3.delete_bucket(Bucket=bucket)
        assert error_of(caught) == ("BucketNotEmpty", 409)

    def test_recreating_an_owned_bucket_keeps_its_objects(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="mykey1", Body=b"1")
        with pytest.raises(ClientError) as caught:
            s3.create_bucket(Bucket=bucket)
        assert error_of(caught) == ("BucketAlreadyOwnedByYou", 409)
        assert [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]] == ["mykey1"]

    def test_a_private_canned_acl_at_creation_is_accepted(self, s3: Any) -> None:
        name = unique()
        s3.create_bucket(Bucket=name, ACL="private")
        assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200

    def test_the_location_of_a_constrained_bucket_is_its_region(self, s3: Any) -> None:
        name = unique()
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-central-1"


class TestListingBuckets:
    def test_created_buckets_are_listed_with_a_recent_creation_date(self, s3: Any) -> None:
        before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
        names = [unique("listed") for _ in range(5)]
        for name in names:
            s3.create_bucket(Bucket=name)
        listed = {b["Name"]: b["CreationDate"] for b in s3.list_buckets()["Buckets"]}
        assert set(names) <= set(listed)
        assert all(before <= listed[name] for name in names)

    def test_max_buckets_pages_with_a_continuation_token_only_while_truncated(self, s3: Any) -> None:
        prefix = unique("paged")
        assert s3.list_buckets(MaxBuckets=1, Prefix=prefix)["Buckets"] == []
        assert "ContinuationToken" not in s3.list_buckets(MaxBuckets=1, Prefix=prefix)
        s3.create_bucket(Bucket=f"{prefix}-1")
        first = s3.list_buckets(MaxBuckets=1, Prefix=prefix)
        assert [b["Name"] for b in first["Buckets"]] == [f"{prefix}-1"]
        assert "ContinuationToken" not in first
        s3.create_bucket(Bucket=f"{prefix}-2")
        first = s3.list_buckets(MaxBuckets=1, Prefix=prefix)
        assert [b["Name"] for b in first["Buckets"]] == [f"{prefix}-1"]
        second = s3.list_buckets(MaxBuckets=1, Prefix=prefix, ContinuationToken=first["ContinuationToken"])
        assert [b["Name"] for b in second["Buckets"]] == [f"{prefix}-2"]
        assert "ContinuationToken" not in second
