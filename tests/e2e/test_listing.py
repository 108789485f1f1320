"""Listing objects with boto3: ListObjects (v1) and ListObjectsV2, their paging, prefixes,
delimiters, URL encoding and key order."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.e2e.client_errors import error_of
from tests.servers import StratoServer

MANY = 2500


def fill(s3: Any, bucket: str, keys: list[str]) -> None:
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")


def keys_of(page: dict[str, Any]) -> list[str]:
    return [o["Key"] for o in page.get("Contents", [])]


def prefixes_of(page: dict[str, Any]) -> list[str]:
    return [p["Prefix"] for p in page.get("CommonPrefixes", [])]


@pytest.fixture(scope="module")
def crowded(server: StratoServer) -> tuple[str, list[str]]:
    """A bucket holding MANY keys spread over ten 'folders', written concurrently."""
    s3 = make_client(server.url, max_pool_connections=16)
    name = f"crowded-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    keys = sorted(f"dir{i % 10}/file-{i:05d}" for i in range(MANY))
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=name, Key=key, Body=b""), keys))
    return name, keys


class TestListObjectsV2:
    def test_an_empty_bucket_lists_nothing(self, s3: Any, bucket: str) -> None:
        page = s3.list_objects_v2(Bucket=bucket)
        assert page["KeyCount"] == 0
        assert "Contents" not in page
        assert page["IsTruncated"] is False

    def test_objects_are_listed_with_size_etag_and_storage_class(self, s3: Any, bucket: str) -> None:
        put = s3.put_object(Bucket=bucket, Key="one", Body=b"12345")
        (entry,) = s3.list_objects_v2(Bucket=bucket)["Contents"]
        assert entry["Key"] == "one"
        assert entry["Size"] == 5
        assert entry["ETag"] == put["ETag"]
        assert entry["StorageClass"] == "STANDARD"
        # The listing keeps milliseconds; HEAD's HTTP date has whole seconds of the same time.
        head = s3.head_object(Bucket=bucket, Key="one")
        assert entry["LastModified"].replace(microsecond=0) == head["LastModified"]

    def test_max_keys_pages_with_continuation_tokens(self, s3: Any, bucket: str) -> None:
        keys = [f"k{i}" for i in range(5)]
        fill(s3, bucket, keys)
        first = s3.list_objects_v2(Bucket=bucket, MaxKeys=2)
        assert keys_of(first) == keys[:2]
        assert first["IsTruncated"] is True
        assert first["KeyCount"] == 2
        second = s3.list_objects_v2(Bucket=bucket, MaxKeys=2,
                                    ContinuationToken=first["NextContinuationToken"])
        assert keys_of(second) == keys[2:4]
        assert second["ContinuationToken"] == first["NextContinuationToken"]
        third = s3.list_objects_v2(Bucket=bucket, MaxKeys=2,
                                   ContinuationToken=second["NextContinuationToken"])
        assert keys_of(third) == keys[4:]
        assert third["IsTruncated"] is False
        assert "NextContinuationToken" not in third

    def test_max_keys_0_lists_nothing_and_is_not_truncated(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["a", "b"])
        page = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
        assert keys_of(page) == []
        assert page["IsTruncated"] is False
        assert page["MaxKeys"] == 0

    def test_start_after_skips_keys_up_to_and_including_it(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["a", "b", "c", "d"])
        page = s3.list_objects_v2(Bucket=bucket, StartAfter="b")
        assert keys_of(page) == ["c", "d"]
        assert page["StartAfter"] == "b"
        assert keys_of(s3.list_objects_v2(Bucket=bucket, StartAfter="bb")) == ["c", "d"]

    def test_the_owner_is_listed_only_when_fetch_owner_is_set(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["a"])
        assert "Owner" not in s3.list_objects_v2(Bucket=bucket)["Contents"][0]
        owner = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]["Owner"]
        assert owner["ID"] == s3.list_buckets()["Owner"]["ID"]

    def test_a_prefix_lists_only_keys_starting_with_it(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["photos/a.jpg", "photos/b.jpg", "photosynthesis", "videos/c.mp4"])
        page = s3.list_objects_v2(Bucket=bucket, Prefix="photos/")
        assert keys_of(page) == ["photos/a.jpg", "photos/b.jpg"]
        assert page["Prefix"] == "photos/"

    def test_a_delimiter_rolls_keys_up_into_common_prefixes(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["a/1", "a/2", "a/deep/3", "b/1", "top.txt", "z"])
        page = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
        assert prefixes_of(page) == ["a/", "b/"]
        assert keys_of(page) == ["top.txt", "z"]
        assert page["KeyCount"] == 4
        nested = s3.list_objects_v2(Bucket=bucket, Delimiter="/", Prefix="a/")
        assert prefixes_of(nested) == ["a/deep/"]
        assert keys_of(nested) == ["a/1", "a/2"]

    def test_a_multi_character_delimiter_splits_on_the_whole_string(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["x--1", "x--2", "x-y", "y"])
        page = s3.list_objects_v2(Bucket=bucket, Delimiter="--")
        assert prefixes_of(page) == ["x--"]
        assert keys_of(page) == ["x-y", "y"]

    def test_common_prefixes_count_towards_max_keys(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["a/1", "a/2", "b/1", "c"])
        first = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=2)
        assert prefixes_of(first) == ["a/", "b/"]
        assert keys_of(first) == []
        assert first["IsTruncated"] is True
        second = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=2,
                                    ContinuationToken=first["NextContinuationToken"])
        assert prefixes_of(second) == []
        assert keys_of(second) == ["c"]
        assert second["IsTruncated"] is False

    def test_a_bogus_continuation_token_is_an_invalid_argument(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.list_objects_v2(Bucket=bucket, ContinuationToken="!!not a token!!")
        assert error_of(caught) == ("InvalidArgument", 400)

    def test_listing_a_missing_bucket_is_no_such_bucket(self, s3: Any) -> None:
        with pytest.raises(ClientError) as caught:
            s3.list_objects_v2(Bucket=f"missing-{uuid.uuid4().hex[:12]}")
        assert error_of(caught) == ("NoSuchBucket", 404)


class TestListObjectsV1:
    def test_objects_are_listed_with_their_owner(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["a", "b"])
        page = s3.list_objects(Bucket=bucket)
        assert keys_of(page) == ["a", "b"]
        assert all(entry["Owner"]["ID"] for entry in page["Contents"])
        assert page["IsTruncated"] is False

    def test_marker_lists_the_keys_after_it(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["a", "b", "c"])
        page = s3.list_objects(Bucket=bucket, Marker="a")
        assert keys_of(page) == ["b", "c"]
        assert page["Marker"] == "a"

    def test_without_a_delimiter_a_truncated_page_has_no_next_marker(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["a", "b", "c"])
        page = s3.list_objects(Bucket=bucket, MaxKeys=2)
        assert keys_of(page) == ["a", "b"]
        assert page["IsTruncated"] is True
        assert "NextMarker" not in page

    def test_with_a_delimiter_next_marker_resumes_after_a_common_prefix(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["a/1", "a/2", "b", "c/1", "d"])
        first = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2)
        assert prefixes_of(first) == ["a/"]
        assert keys_of(first) == ["b"]
        assert first["NextMarker"] == "b"
        second = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2, Marker=first["NextMarker"])
        assert prefixes_of(second) == ["c/"]
        assert keys_of(second) == ["d"]
        assert second["IsTruncated"] is False

    def test_a_next_marker_that_is_a_common_prefix_skips_the_whole_prefix(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["a", "b/1", "b/2", "c"])
        first = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2)
        assert first["NextMarker"] == "b/"
        second = s3.list_objects(Bucket=bucket, Delimiter="/", Marker=first["NextMarker"])
        assert prefixes_of(second) == []
        assert keys_of(second) == ["c"]

    @pytest.mark.parametrize(("prefix", "max_keys", "pages"), [
        pytest.param("", 1, [(["asdf"], [], "asdf"), ([], ["boo/"], "boo/"), ([], ["cquux/"], None)],
                     id="one-at-a-time"),
        pytest.param("", 2, [(["asdf"], ["boo/"], "boo/"), ([], ["cquux/"], None)], id="two-at-a-time"),
        pytest.param("boo/", 1, [(["boo/bar"], [], "boo/bar"), ([], ["boo/baz/"], None)],
                     id="inside-a-prefix"),
    ])
    def test_paging_with_a_delimiter_visits_keys_and_prefixes_in_order(
        self, s3: Any, bucket: str, prefix: str, max_keys: int,
        pages: list[tuple[list[str], list[str], str | None]],
    ) -> None:
        fill(s3, bucket, ["asdf", "boo/bar", "boo/baz/xyzzy", "cquux/thud", "cquux/bla"])
        marker = ""
        for keys, prefixes, next_marker in pages:
            page = s3.list_objects(Bucket=bucket, Prefix=prefix, Delimiter="/", MaxKeys=max_keys,
                                   Marker=marker)
            assert (keys_of(page), prefixes_of(page), page.get("NextMarker")) == (keys, prefixes, next_marker)
            assert page["IsTruncated"] is (next_marker is not None)
            marker = next_marker or ""

    def test_max_keys_0_lists_nothing_and_is_not_truncated(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["a"])
        page = s3.list_objects(Bucket=bucket, MaxKeys=0)
        assert keys_of(page) == []
        assert page["IsTruncated"] is False


AWKWARD = [
    "plain", "with space", "plus+sign", "per%cent", "amp&ersand", "equals=", "question?", "hash#",
    "new\nline", "tab\tchar", "ctrl\x01char", "<angle>", "quote\"'", "emoji\U0001F600", "caf\u00e9",
    "slash/inside", "back\\slash", "tilde~", "\u4e2d\u6587",
]


class TestEncodingTypeUrl:
    def test_boto3_decodes_awkward_keys_back_to_what_was_written(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, AWKWARD)
        assert keys_of(s3.list_objects_v2(Bucket=bucket)) == sorted(AWKWARD)
        assert keys_of(s3.list_objects(Bucket=bucket)) == sorted(AWKWARD)

    def test_an_explicit_url_encoding_returns_keys_that_decode_to_the_originals(
        self, s3: Any, bucket: str
    ) -> None:
        fill(s3, bucket, AWKWARD)
        page = s3.list_objects_v2(Bucket=bucket, EncodingType="url")
        assert page["EncodingType"] == "url"
        listed = keys_of(page)
        assert [unquote_plus(k) for k in listed] == sorted(AWKWARD)
        assert all("\n" not in k and " " not in k and "\x01" not in k for k in listed)

    def test_prefixes_and_delimiters_round_trip_through_url_encoding(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, ["dir one/a b", "dir one/sub dir/c", "dir+two/d"])
        page = s3.list_objects_v2(Bucket=bucket, Prefix="dir one/", Delimiter="/")
        assert page["Prefix"] == "dir one/"
        assert keys_of(page) == ["dir one/a b"]
        assert prefixes_of(page) == ["dir one/sub dir/"]
        v1 = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=1)
        assert prefixes_of(v1) == ["dir one/"]
        assert v1["NextMarker"] == "dir one/"

    def test_an_unknown_encoding_type_is_an_invalid_argument(self, s3: Any, bucket: str) -> None:
        with pytest.raises(ClientError) as caught:
            s3.list_objects_v2(Bucket=bucket, EncodingType="base64")
        assert error_of(caught) == ("InvalidArgument", 400)


class TestKeyOrder:
    def test_keys_are_listed_in_utf8_byte_order(self, s3: Any, bucket: str) -> None:
        keys = ["\U0001F600", "\ue000", "\u00e9", "z", "Z", "a", "A", "0", "~", "a/b", "a-b", "a", "\x7f"]
        fill(s3, bucket, keys)
        expected = sorted(set(keys), key=lambda k: k.encode("utf-8"))
        assert keys_of(s3.list_objects_v2(Bucket=bucket)) == expected
        assert expected.index("\ue000") < expected.index("\U0001F600")

    def test_paging_through_awkward_keys_visits_each_once_in_order(self, s3: Any, bucket: str) -> None:
        fill(s3, bucket, AWKWARD)
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 3})
        assert [k for page in pages for k in keys_of(page)] == sorted(AWKWARD, key=lambda k: k.encode())


class TestPaginatorsOverManyKeys:
    def test_the_v2_paginator_visits_every_key_once_in_order(
        self, s3: Any, crowded: tuple[str, list[str]]
    ) -> None:
        name, keys = crowded
        pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=name))
        assert [k for page in pages for k in keys_of(page)] == keys
        assert [page["KeyCount"] for page in pages] == [1000, 1000, 500]

    def test_the_v1_paginator_visits_every_key_once_in_order(
        self, s3: Any, crowded: tuple[str, list[str]]
    ) -> None:
        name, keys = crowded
        pages = s3.get_paginator("list_objects").paginate(Bucket=name, PaginationConfig={"PageSize": 700})
        assert [k for page in pages for k in keys_of(page)] == keys

    def test_a_delimiter_over_many_keys_gives_one_entry_per_folder(
        self, s3: Any, crowded: tuple[str, list[str]]
    ) -> None:
        name, _ = crowded
        page = s3.list_objects_v2(Bucket=name, Delimiter="/")
        assert prefixes_of(page) == [f"dir{i}/" for i in range(10)]
        assert page["IsTruncated"] is False

    def test_paging_common_prefixes_three_at_a_time_visits_each_folder_once(
        self, s3: Any, crowded: tuple[str, list[str]]
    ) -> None:
        name, _ = crowded
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=name, Delimiter="/", PaginationConfig={"PageSize": 3})
        assert [p for page in pages for p in prefixes_of(page)] == [f"dir{i}/" for i in range(10)]

    def test_a_prefix_inside_many_keys_pages_through_just_that_folder(
        self, s3: Any, crowded: tuple[str, list[str]]
    ) -> None:
        name, keys = crowded
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=name, Prefix="dir7/", PaginationConfig={"PageSize": 100})
        assert [k for page in pages for k in keys_of(page)] == [k for k in keys if k.startswith("dir7/")]
