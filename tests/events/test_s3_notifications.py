"""The pure rules of S3 event notifications: which configuration wants a change, which
configurations overlap, which policies let S3 invoke a function, and the message S3 sends."""

from __future__ import annotations

import pytest

from strato.events.s3_notifications import LambdaTarget, allows_s3, message, overlap
from strato.storage.records import CREATED, REMOVED, Cause, Change

ARN = "arn:aws:lambda:us-east-1:000000000000:function:f"


def target(*events: str, prefix: str = "", suffix: str = "") -> LambdaTarget:
    return LambdaTarget("id", ARN, events, prefix, suffix)


class TestWants:
    def test_a_wildcard_takes_every_event_of_its_kind(self) -> None:
        wildcard = target("s3:ObjectCreated:*")
        assert wildcard.wants("ObjectCreated:Copy", "k")
        assert not wildcard.wants("ObjectRemoved:Delete", "k")

    def test_a_named_event_takes_only_itself(self) -> None:
        assert not target("s3:ObjectCreated:Put").wants("ObjectCreated:Copy", "k")

    def test_the_key_must_begin_with_the_prefix_and_end_with_the_suffix(self) -> None:
        filtered = target("s3:ObjectCreated:*", prefix="images/", suffix=".jpg")
        assert filtered.wants("ObjectCreated:Put", "images/a.jpg")
        assert not filtered.wants("ObjectCreated:Put", "images/a.png")
        assert not filtered.wants("ObjectCreated:Put", "docs/a.jpg")


class TestOverlap:
    @pytest.mark.parametrize(("one", "other"), [
        (target("s3:ObjectCreated:*"), target("s3:ObjectCreated:Put", prefix="a/")),
        (target("s3:ObjectCreated:Put", prefix="a/"), target("s3:ObjectCreated:Put", prefix="a/b/", suffix=".x")),
    ])
    def test_configurations_one_change_can_match_overlap(self, one: LambdaTarget, other: LambdaTarget) -> None:
        assert overlap([one, other])

    @pytest.mark.parametrize(("one", "other"), [
        (target("s3:ObjectCreated:Put"), target("s3:ObjectCreated:Copy")),
        (target("s3:ObjectCreated:*", prefix="a/"), target("s3:ObjectCreated:*", prefix="b/")),
        (target("s3:ObjectCreated:*", suffix=".jpg"), target("s3:ObjectCreated:*", suffix=".png")),
        (target("s3:ObjectCreated:*"), target("s3:ObjectRemoved:*")),
    ])
    def test_configurations_kept_apart_do_not(self, one: LambdaTarget, other: LambdaTarget) -> None:
        assert not overlap([one, other])


class TestPermission:
    def statement(self, **condition: dict[str, str]) -> dict[str, object]:
        built: dict[str, object] = {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                    "Action": "lambda:InvokeFunction", "Resource": ARN}
        return {**built, "Condition": condition} if condition else built

    def test_s3_may_invoke_for_the_bucket_its_source_arn_names(self) -> None:
        statement = self.statement(ArnLike={"AWS:SourceArn": "arn:aws:s3:::photos"})
        assert allows_s3([statement], "photos")
        assert not allows_s3([statement], "other")

    def test_a_source_arn_pattern_and_the_account_are_honoured(self) -> None:
        statement = self.statement(ArnLike={"AWS:SourceArn": "arn:aws:s3:::photo*"},
                                   StringEquals={"AWS:SourceAccount": "000000000000"})
        assert allows_s3([statement], "photos-2024")
        assert not allows_s3([self.statement(StringEquals={"AWS:SourceAccount": "123456789012"})], "photos")

    def test_another_service_is_no_permission_for_s3(self) -> None:
        assert not allows_s3([{**self.statement(), "Principal": {"Service": "sns.amazonaws.com"}}], "photos")


class TestMessage:
    def change(self, kind: str, key: str) -> Change:
        return Change(26, "photos", key, kind, 3 if kind == CREATED else None, "abc" if kind == CREATED else None,
                      0.5, Cause("Copy", "REQ", "10.0.0.1", "AWS:KEY"))

    def test_a_created_object_carries_its_size_etag_and_an_encoded_key(self) -> None:
        [record] = message(self.change(CREATED, "a b/ü+c.jpg"), target("s3:ObjectCreated:*"), "eu-west-1")["Records"]
        assert (record["eventName"], record["eventTime"], record["awsRegion"]) == (
            "ObjectCreated:Copy", "1970-01-01T00:00:00.500Z", "eu-west-1")
        assert record["s3"]["object"] == {"key": "a+b/%C3%BC%2Bc.jpg", "size": 3, "eTag": "abc",
                                          "sequencer": "000000000000001A"}

    def test_a_removal_names_only_the_key(self) -> None:
        [record] = message(self.change(REMOVED, "k"), target("s3:ObjectRemoved:*"), "us-east-1")["Records"]
        assert record["eventName"] == "ObjectRemoved:Delete"
        assert record["s3"]["object"] == {"key": "k", "sequencer": "000000000000001A"}
