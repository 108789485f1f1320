"""Tag sets read from a <Tagging> body or the x-amz-tagging header, held to S3's limits, and
the Tagging document GetObjectTagging / GetBucketTagging answer."""

from __future__ import annotations

import pytest

from strato.api.s3 import tags, xml
from strato.api.s3.errors import S3Error
from strato.api.s3.shapes import tagging_of


def body(*pairs: tuple[str, str]) -> bytes:
    inner = "".join(f"<Tag><Key>{xml.escape(k)}</Key><Value>{xml.escape(v)}</Value></Tag>" for k, v in pairs)
    return f'<Tagging xmlns="{xml.NAMESPACE}"><TagSet>{inner}</TagSet></Tagging>'.encode()


def refusal(call: object) -> tuple[str, str]:
    assert callable(call)
    with pytest.raises(S3Error) as raised:
        call()
    return raised.value.code, raised.value.message


class TestBody:
    def test_tags_come_in_document_order_with_empty_values_kept(self) -> None:
        parsed = tags.from_body(body(("b", "2"), ("a", ""), ("é t+=.:/@_-", "ü")), bucket=False)
        assert list(parsed.items()) == [("b", "2"), ("a", ""), ("é t+=.:/@_-", "ü")]

    def test_an_empty_tag_set_is_no_tags(self) -> None:
        assert tags.from_body(b"<Tagging><TagSet/></Tagging>", bucket=True) == {}

    @pytest.mark.parametrize("document", [
        b"<Tagging/>", b"<TagSet/>", b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>",
        b"<Tagging><TagSet><Tag><Value>a</Value></Tag></TagSet></Tagging>", b"<Tagging><TagSet>",
    ])
    def test_a_document_that_is_not_a_tag_set_is_malformed(self, document: bytes) -> None:
        with pytest.raises(xml.MalformedXML):
            tags.from_body(document, bucket=False)

    def test_the_limits_are_inclusive(self) -> None:
        widest = [(f"{n}" + "k" * 127, "v" * 256) for n in range(10)]
        assert len(tags.from_body(body(*widest), bucket=False)) == 10
        assert len(tags.from_body(body(*[(f"k{n}", "") for n in range(50)]), bucket=True)) == 50

    @pytest.mark.parametrize(("pairs", "bucket", "expected"), [
        ([(f"k{n}", "") for n in range(11)], False, ("BadRequest", "Object tags cannot be greater than 10")),
        ([(f"k{n}", "") for n in range(51)], True, ("InvalidTag", "Bucket tag count cannot be greater than 50")),
        ([("k" * 129, "")], False, ("InvalidTag", "The TagKey you have provided is too long, max 128")),
        ([("k", "v" * 257)], False, ("InvalidTag", "The TagValue you have provided is too long, max 256")),
        ([("", "v")], False, ("InvalidTag", "The TagKey you have provided is invalid")),
        ([("a*b", "v")], False, ("InvalidTag", "The TagKey you have provided is invalid")),
        ([("k", "a;b")], False, ("InvalidTag", "The TagValue you have provided is invalid")),
        ([("a", "1"), ("a", "2")], False, ("InvalidTag", "Cannot provide multiple Tags with the same key")),
        ([("aws:x", "1")], False, ("InvalidTag", "Your TagKey cannot be prefixed with aws:")),
        ([("AWS:x", "1")], True, ("InvalidTag", "System tags cannot be added/updated by requester")),
    ], ids=["eleven", "fifty-one", "long-key", "long-value", "empty-key", "key-char", "value-char", "duplicate",
            "aws-object", "aws-bucket"])
    def test_what_s3_refuses(self, pairs: list[tuple[str, str]], bucket: bool, expected: tuple[str, str]) -> None:
        assert refusal(lambda: tags.from_body(body(*pairs), bucket=bucket)) == expected


class TestHeader:
    def test_absent_or_empty_is_no_tags(self) -> None:
        assert tags.from_header({}) == {}
        assert tags.from_header({"x-amz-tagging": ""}) == {}

    def test_the_query_form_is_url_decoded_utf_8(self) -> None:
        parsed = tags.from_header({"x-amz-tagging": "a=1&b=&c&caf%C3%A9=x%20y+z"})
        assert parsed == {"a": "1", "b": "", "c": "", "café": "x y z"}

    @pytest.mark.parametrize("value", ["a=1&a=2", "a=%FF", "&&"])
    def test_duplicates_or_bad_encoding_are_invalid_argument(self, value: str) -> None:
        assert refusal(lambda: tags.from_header({"x-amz-tagging": value}))[0] == "InvalidArgument"

    def test_the_object_limits_apply(self) -> None:
        many = "&".join(f"k{n}=v" for n in range(11))
        assert refusal(lambda: tags.from_header({"x-amz-tagging": many}))[0] == "BadRequest"


class TestCopy:
    def test_copy_is_the_default_and_keeps_the_source_tags(self) -> None:
        assert tags.for_copy({"x-amz-tagging": "new=1"}, {"old": "1"}) == {"old": "1"}
        assert tags.for_copy({"x-amz-tagging-directive": "copy"}, {"old": "1"}) == {"old": "1"}

    def test_replace_takes_the_request_tags_or_none(self) -> None:
        replace = {"x-amz-tagging-directive": "REPLACE"}
        assert tags.for_copy({**replace, "x-amz-tagging": "new=1"}, {"old": "1"}) == {"new": "1"}
        assert tags.for_copy(replace, {"old": "1"}) == {}

    def test_another_directive_is_invalid_argument(self) -> None:
        assert refusal(lambda: tags.for_copy({"x-amz-tagging-directive": "MERGE"}, {}))[0] == "InvalidArgument"


def test_a_tag_set_renders_as_s3_writes_it() -> None:
    rendered = xml.render("Tagging", tagging_of({"a&b": "1", "c": ""}))
    assert rendered.endswith(
        b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>a&amp;b</Key><Value>1</Value>'
        b"</Tag><Tag><Key>c</Key><Value></Value></Tag></TagSet></Tagging>"
    )
    assert xml.render("Tagging", tagging_of({})).endswith(b"<TagSet></TagSet></Tagging>")
