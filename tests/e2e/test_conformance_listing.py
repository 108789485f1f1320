"""Listing as conformance suites probe it: ListObjects v1 and v2 echo what they were asked,
page with markers and tokens, split on any delimiter, and ListObjectVersions lists the
objects of a bucket that was never versioned as "null" versions."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.e2e.client_errors import error_of
from tests.servers import StratoServer


def fill(s3: Any, bucket: str, keys: list[str]) -> None:
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())


def keys_of(page: dict[str, Any]) -> list[str]:
    return [o["Key"] for o in page.get("Contents", [])]


def prefixes_of(page: dict[str, Any]) -> list[str]:
    return [p["Prefix"] for p in page.get("CommonPrefixes", [])]


def with_query(server: StratoServer, operation: str, extra: str) -> Any:
    """A fresh client that appends raw query text to every `operation` request."""
    client = make_client(server.url)

    def add(params: dict[str, Any], **_: Any) -> None:
        params["url"] += ("&" if "?" in params["url"] else "?") + extra

    client.meta.events.register(f"before-call.s3.{operation}", add)
    return client


LISTERS = ["list_objects", "list_objects_v2"]


class TestWhatAListingEchoes:
    @pytest.mark.parametrize("lister", LISTERS)
    def test_an_empty_delimiter_is_left_out_and_splits_nothing(self, s3: Any, bucket: str, lister: str) -> None:
        fill(s3, bucket, ["bar", "baz/x", "foo"])
        page = getattr(s3, lister)(Bucket=bucket, Delimiter="")
        assert "Delimiter" not in page
        assert keys_of(page) == ["bar", "baz/x", "foo"]
        assert prefixes_of(page) == []

    @pytest.mark.parametrize("lister", LISTERS)
    @pytest.mark.parametrize("delimiter", ["a", "%", " ", ".", "\n"])
    def test_any_character_can_be_the_delimiter_and_is_echoed(
        self, s3: Any, bucket: str, lister: str, delimiter: str
    ) -> None:
        keys = [f"b{delimiter}ar", f"b{delimiter}az", f"c{delimiter}ab", "foo"]
        fill(s3, bucket, keys)
        page = getattr(s3, lister)(Bucket=bucket, Delimiter=delimiter)
        assert page["Delimiter"] == delimiter
        assert keys_of(page) == ["foo"]
        assert prefixes_of(page) == [f"b{delimiter}", f"c{delimiter}"]

    @pytest.mark.parametrize("lister", LISTERS)
    def test_a_delimiter_no_key_contains_rolls_nothing_up(self, s3: Any, bucket: str, lister: str) -> None:
        fill(s3, bucket, ["bar", "baz", "cab", "foo"])
        page = getattr(s3, lister)(Bucket=bucket, Delimiter="/")
        assert page["Delimiter"] == "/"
        assert keys_of(page) == ["bar", "baz", "cab", "foo"]

    @pytest.mark.parametrize("lister", LISTERS)
    def test_the_prefix_is_always_echoed_even_when_empty(self, s3: Any, bucket: str, lister: str) -> None:
        fill(s3, bucket, ["foo/bar", "quux"])
        assert getattr(s3, lister)(Bucket=bucket)["Prefix"] == ""
        assert getattr(s3, lister)(Bucket=bucket, Prefix="")["Prefix"] == ""
        page = getattr(s3, lister)(Bucket=bucket, Prefix="\n")
        assert page["Prefix"] == "\n"
        assert keys_of(page) == []

    @pytest.mark.parametrize("lister", LISTERS)
    def test_max_keys_defaults_to_1000_and_is_echoed(self, s3: Any, bucket: str, lister: str) -> None:
        fill(s3, bucket, ["a"])
        assert getattr(s3, lister)(Bucket=bucket)["MaxKeys"] == 1000
        assert getattr(s3, lister)(Bucket=bucket, MaxKeys=7)["MaxKeys"] == 7

    @pytest.mark.parametrize("lister", LISTERS)
    def test_max_keys_that_is_not_a_number_is_an_invalid_argument(
        self, server: StratoServer, bucket: str, lister: str
    ) -> None:
        client = with_query(server, "ListObjects" if lister == "list_objects" else "ListObjectsV2", "max-keys=blah")
        with pytest.raises(ClientError) as caught:
            getattr(client, lister)(Bucket=bucket)
        assert error_of(caught) == ("InvalidArgument", 400)

    def test_a_v1_marker_is_echoed_even_when_empty_or_unreadable(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["bar", "baz", "foo", "quxx"])
        assert s3.list_objects(Bucket=bucket)["Marker"] == ""
        assert s3.list_objects(Bucket=bucket, Marker="")["Marker"] == ""
        page = s3.list_objects(Bucket=bucket, Marker="\n")
        assert page["Marker"] == "\n"
        assert keys_of(page) == ["bar", "baz", "foo", "quxx"]

    def test_a_v2_start_after_is_echoed(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["bar", "baz", "foo", "quxx"])
        page = s3.list_objects_v2(Bucket=bucket, StartAfter="\n")
        assert page["StartAfter"] == "\n"
        assert keys_of(page) == ["bar", "baz", "foo", "quxx"]
        assert keys_of(s3.list_objects_v2(Bucket=bucket, StartAfter="blah")) == ["foo", "quxx"]
        after = s3.list_objects_v2(Bucket=bucket, StartAfter="zzz")
        assert keys_of(after) == []
        assert after["IsTruncated"] is False

    def test_an_empty_continuation_token_starts_at_the_beginning(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["bar", "baz"])
        page = s3.list_objects_v2(Bucket=bucket, ContinuationToken="")
        assert page["ContinuationToken"] == ""
        assert keys_of(page) == ["bar", "baz"]

    def test_a_continuation_token_wins_over_start_after_which_is_still_echoed(
        self, s3: Any, bucket: str
    ) -> None:
        fill(s3, bucket, ["bar", "baz", "foo", "quxx"])
        first = s3.list_objects_v2(Bucket=bucket, StartAfter="bar", MaxKeys=1)
        assert keys_of(first) == ["baz"]
        second = s3.list_objects_v2(Bucket=bucket, StartAfter="bar",
                                    ContinuationToken=first["NextContinuationToken"])
        assert second["StartAfter"] == "bar"
        assert second["ContinuationToken"] == first["NextContinuationToken"]
        assert keys_of(second) == ["foo", "quxx"]

    def test_key_count_counts_keys_and_common_prefixes(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["foo/bar", "foo/bar/xyzzy", "quux/thud", "asdf"])
        page = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
        assert page["KeyCount"] == 3


class TestPaging:
    @pytest.mark.parametrize(("prefix", "max_keys", "pages"), [
        pytest.param("", 1, [(["_obj1_"], []), ([], ["_under1/"]), ([], ["_under2/"])], id="one"),
        pytest.param("", 2, [(["_obj1_"], ["_under1/"]), ([], ["_under2/"])], id="two"),
        pytest.param("_under1/", 1, [(["_under1/bar"], []), ([], ["_under1/baz/"])], id="inside"),
        pytest.param("_under1/", 2, [(["_under1/bar"], ["_under1/baz/"])], id="inside-two"),
    ])
    def test_v2_tokens_page_through_keys_and_prefixes(
        self, s3: Any, bucket: str, prefix: str, max_keys: int, pages: list[tuple[list[str], list[str]]]
    ) -> None:
        fill(s3, bucket, ["_obj1_", "_under1/bar", "_under1/baz/xyzzy", "_under2/thud", "_under2/bla"])
        args: dict[str, Any] = {"Bucket": bucket, "Delimiter": "/", "MaxKeys": max_keys, "Prefix": prefix,
                                "StartAfter": ""}
        for index, (keys, prefixes) in enumerate(pages):
            page = s3.list_objects_v2(**args)
            last = index == len(pages) - 1
            assert (keys_of(page), prefixes_of(page)) == (keys, prefixes)
            assert page["IsTruncated"] is not last
            assert ("NextContinuationToken" in page) is not last
            args["ContinuationToken"] = page.get("NextContinuationToken")

    def test_a_key_ending_in_the_delimiter_inside_its_own_prefix_is_a_key(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["asdf/"])
        for lister in LISTERS:
            page = getattr(s3, lister)(Bucket=bucket, Prefix="asdf/", Delimiter="/")
            assert (keys_of(page), prefixes_of(page)) == (["asdf/"], [])
            assert page["IsTruncated"] is False

    def test_v1_max_keys_1_then_the_marker_lists_the_rest(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["bar", "baz", "foo", "quxx"])
        first = s3.list_objects(Bucket=bucket, MaxKeys=1)
        assert keys_of(first) == ["bar"]
        assert first["IsTruncated"] is True
        rest = s3.list_objects(Bucket=bucket, Marker="bar")
        assert keys_of(rest) == ["baz", "foo", "quxx"]
        assert rest["IsTruncated"] is False

    def test_a_folder_of_many_keys_is_one_prefix_before_the_keys_after_it(self, s3: Any, bucket: str) -> None:
        tail = ["1999", "1999#", "1999+", "2000"]
        fill(s3, bucket, ["0/", *[f"0/{i}" for i in range(1000, 1100)], *tail])
        page = s3.list_objects(Bucket=bucket, Delimiter="/")
        assert prefixes_of(page) == ["0/"]
        assert keys_of(page) == tail

    @pytest.mark.parametrize(("stored", "delimiter", "prefix", "keys", "prefixes"), [
        (["bar", "bazar", "cab", "foo"], "a", "ba", ["bar"], ["baza"]),
        (["b/a/r", "b/a/c", "b/a/g", "g"], "d", "/", [], []),
        (["b/a/c", "b/a/g", "b/a/r", "g"], "z", "b", ["b/a/c", "b/a/g", "b/a/r"], []),
        (["b/a/c", "b/a/g", "b/a/r", "g"], "z", "y", [], []),
    ])
    def test_prefix_and_delimiter_combine(
        self, s3: Any, bucket: str, stored: list[str], delimiter: str, prefix: str, keys: list[str],
        prefixes: list[str],
    ) -> None:
        fill(s3, bucket, stored)
        for lister in LISTERS:
            page = getattr(s3, lister)(Bucket=bucket, Delimiter=delimiter, Prefix=prefix)
            assert (keys_of(page), prefixes_of(page)) == (keys, prefixes)


class TestListingEntries:
    def test_entries_carry_the_etag_size_and_time_head_reports(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["bar", "baz", "foo"])
        for entry in s3.list_objects(Bucket=bucket)["Contents"]:
            head = s3.head_object(Bucket=bucket, Key=entry["Key"])
            assert entry["ETag"] == head["ETag"]
            assert entry["Size"] == head["ContentLength"]
            assert entry["LastModified"].replace(microsecond=0) == head["LastModified"]
            assert entry["Owner"]["ID"]
            assert entry["Owner"]["DisplayName"]

    def test_v2_lists_the_owner_only_when_fetch_owner_is_true(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["foo/bar", "quux"])
        assert "Owner" in s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]
        assert "Owner" not in s3.list_objects_v2(Bucket=bucket, FetchOwner=False)["Contents"][0]
        assert "Owner" not in s3.list_objects_v2(Bucket=bucket)["Contents"][0]

    def test_special_characters_in_keys_list_and_read_back(self, s3: Any, bucket: str) -> None:
        keys = [" ", '"', "$", "%", "&", "'", "<", ">", "_", "_ ", "_ _", "__"]
        fill(s3, bucket, keys)
        assert keys_of(s3.list_objects(Bucket=bucket)) == keys
        for key in keys:
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()

    @pytest.mark.parametrize("lister", LISTERS)
    def test_a_missing_bucket_is_no_such_bucket(self, s3: Any, lister: str) -> None:
        with pytest.raises(ClientError) as caught:
            getattr(s3, lister)(Bucket=f"missing-{uuid.uuid4().hex[:12]}")
        assert error_of(caught) == ("NoSuchBucket", 404)


class TestUrlEncodedListings:
    @pytest.mark.parametrize("lister", LISTERS)
    def test_keys_and_prefixes_are_encoded_plus_as_2b(self, s3: Any, bucket: str, lister: str) -> None:
        fill(s3, bucket, ["foo+1/bar", "foo/bar/xyzzy", "quux ab/thud", "asdf+b"])
        page = getattr(s3, lister)(Bucket=bucket, Delimiter="/", EncodingType="url")
        assert page["Delimiter"] == "/"
        assert keys_of(page) == ["asdf%2Bb"]
        assert prefixes_of(page) == ["foo%2B1/", "foo/", "quux+ab/"]


class TestListObjectVersionsOfAnUnversionedBucket:
    def test_every_object_is_its_own_latest_null_version(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["a", "b/c"])
        page = s3.list_object_versions(Bucket=bucket)
        versions = page["Versions"]
        assert [v["Key"] for v in versions] == ["a", "b/c"]
        assert all(v["VersionId"] == "null" and v["IsLatest"] is True for v in versions)
        head = s3.head_object(Bucket=bucket, Key="a")
        assert versions[0]["ETag"] == head["ETag"]
        assert versions[0]["Size"] == 1
        assert versions[0]["StorageClass"] == "STANDARD"
        assert "DeleteMarkers" not in page
        assert page["IsTruncated"] is False

    def test_an_empty_bucket_lists_no_versions(self, s3: Any, bucket: str) -> None:
        page = s3.list_object_versions(Bucket=bucket)
        assert "Versions" not in page
        assert page["IsTruncated"] is False

    def test_key_markers_page_through_the_versions(self, s3: Any, bucket: str) -> None:
        keys = [f"k{i}" for i in range(5)]
        fill(s3, bucket, keys)
        seen: list[str] = []
        args: dict[str, Any] = {"Bucket": bucket, "MaxKeys": 2}
        while True:
            page = s3.list_object_versions(**args)
            seen.extend(v["Key"] for v in page.get("Versions", []))
            if not page["IsTruncated"]:
                break
            assert page["NextVersionIdMarker"] == "null"
            args.update(KeyMarker=page["NextKeyMarker"], VersionIdMarker=page["NextVersionIdMarker"])
        assert seen == keys

    def test_a_prefix_and_delimiter_group_versions_like_keys(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["a/1", "a/2", "b", "c/3"])
        page = s3.list_object_versions(Bucket=bucket, Delimiter="/")
        assert [v["Key"] for v in page["Versions"]] == ["b"]
        assert prefixes_of(page) == ["a/", "c/"]

    def test_listed_versions_can_be_deleted_by_version_id(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["x", "y", "z"])
        versions = s3.list_object_versions(Bucket=bucket)["Versions"]
        s3.delete_object(Bucket=bucket, Key="x", VersionId="null")
        objects = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions if v["Key"] != "x"]
        deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})["Deleted"]
        assert sorted((d["Key"], d["VersionId"]) for d in deleted) == [("y", "null"), ("z", "null")]
        assert "Versions" not in s3.list_object_versions(Bucket=bucket)
        s3.delete_bucket(Bucket=bucket)

    def test_a_missing_bucket_is_no_such_bucket(self, s3: Any) -> None:
        with pytest.raises(ClientError) as caught:
            s3.list_object_versions(Bucket=f"missing-{uuid.uuid4().hex[:12]}")
        assert error_of(caught) == ("NoSuchBucket", 404)
