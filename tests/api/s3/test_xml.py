"""S3 XML in one place: typed shapes rendered with every character escaped, and a parser
that refuses DOCTYPEs, entities and external references whatever they hide."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field

import pytest

from strato.api.s3 import xml
from strato.api.s3.xml import IsoTime, MalformedXML, Node, element, escape, iso8601, parse, render

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@dataclass
class Owner:
    id: str | None = element("ID")
    display_name: str | None = None


@dataclass
class Contents:
    key: str
    last_modified: IsoTime
    e_tag: str = element("ETag")
    size: int = 0
    owner: Owner | None = None


@dataclass
class ListBucketResult:
    name: str
    is_truncated: bool
    contents: list[Contents] = field(default_factory=list)
    common_prefixes: list[str] = element("CommonPrefixes")
    next_marker: str | None = None


def read_back(body: bytes) -> ElementTree.Element:
    """Parse with a conformant XML parser other than ours, as a client would."""
    return ElementTree.fromstring(body)


class TestRendering:
    def test_a_shape_renders_with_the_declaration_and_the_s3_namespace(self) -> None:
        body = render("Owner", Owner("abc", "me"))
        assert body == (
            b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<Owner xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            b"<ID>abc</ID><DisplayName>me</DisplayName></Owner>"
        )

    def test_field_names_become_pascal_case_unless_named(self) -> None:
        body = render("Contents", Contents("k", IsoTime(0), e_tag='"x"', size=3))
        assert b"<Key>k</Key><LastModified>1970-01-01T00:00:00.000Z</LastModified>" in body
        assert b'<ETag>"x"</ETag>' in body
        assert b"<Size>3</Size>" in body

    def test_none_is_left_out(self) -> None:
        assert b"DisplayName" not in render("Owner", Owner("abc"))

    def test_lists_repeat_and_nested_shapes_nest(self) -> None:
        shape = ListBucketResult(
            "b",
            True,
            [Contents("a", IsoTime(0), owner=Owner("o")), Contents("b", IsoTime(0))],
            common_prefixes=["p/", "q/"],
        )
        root = read_back(render("ListBucketResult", shape))
        assert [c.findtext(f"{NS}Key") for c in root.findall(f"{NS}Contents")] == ["a", "b"]
        assert root.findtext(f"{NS}Contents/{NS}Owner/{NS}ID") == "o"
        assert [p.text for p in root.findall(f"{NS}CommonPrefixes")] == ["p/", "q/"]
        assert root.findtext(f"{NS}IsTruncated") == "true"

    def test_booleans_are_lower_case(self) -> None:
        assert b"<IsTruncated>false</IsTruncated>" in render("ListBucketResult", ListBucketResult("b", False))

    def test_without_a_namespace_the_root_is_bare(self) -> None:
        assert render("Owner", Owner("a"), namespace=None).endswith(b"<Owner><ID>a</ID></Owner>")

    def test_timestamps_have_millisecond_precision(self) -> None:
        assert iso8601(1369353600.1239) == "2013-05-24T00:00:00.123Z"

    def test_a_text_document_is_escaped_too(self) -> None:
        assert read_back(xml.render_text("LocationConstraint", "a<b")).text == "a<b"

    def test_a_response_is_application_xml(self) -> None:
        response = xml.response("Owner", Owner("a"), 201, [("x-amz-request-id", "1")])
        assert response.status == 201
        assert ("content-type", "application/xml") in response.headers
        assert ("x-amz-request-id", "1") in response.headers


class TestEscaping:
    @pytest.mark.parametrize(
        ("text", "escaped"),
        [
            ("a&b", "a&amp;b"),
            ("<Key>", "&lt;Key&gt;"),
            ("]]>", "]]&gt;"),
            ("&amp;", "&amp;amp;"),
            ("line\rbreak", "line&#13;break"),
            ("\x01\x1f", "&#1;&#31;"),
            ("\ufffe", "&#65534;"),
        ],
    )
    def test_markup_and_characters_a_parser_would_alter_are_escaped(self, text: str, escaped: str) -> None:
        assert escape(text) == escaped

    @pytest.mark.parametrize("text", ["plain", "tab\tand\nnewline", "日本語 🎉", "quote\"and'apostrophe", ""])
    def test_everything_else_is_written_as_is(self, text: str) -> None:
        assert escape(text) == text

    @pytest.mark.parametrize(
        "key",
        [
            "a&b<c>d",
            "]]>",
            "cr\r\nlf",
            "tab\tkey",
            "日本/🎉",
            "<!--x-->",
            "&#65;",
            '"quoted"',
            "<![CDATA[x]]>",
        ],
    )
    def test_a_key_survives_a_round_trip_through_a_conformant_parser(self, key: str) -> None:
        body = render("Contents", Contents(key, IsoTime(0)))
        assert read_back(body).findtext(f"{NS}Key") == key
        assert parse(body).text_of("Key") == key

    def test_characters_xml_1_0_cannot_carry_become_references_as_s3_writes_them(self) -> None:
        # S3 writes them too; clients ask for EncodingType=url to avoid them (botocore does).
        assert b"<Key>a&#1;b</Key>" in render("Contents", Contents("a\x01b", IsoTime(0)))


class TestParsing:
    def test_an_s3_request_document_in_the_s3_namespace_parses(self) -> None:
        root = parse(
            b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            b"<Object><Key>a</Key></Object><Object><Key>b</Key><VersionId>1</VersionId></Object>"
            b"<Quiet>true</Quiet></Delete>"
        )
        assert root.tag == "Delete"
        assert [o.text_of("Key") for o in root.find_all("Object")] == ["a", "b"]
        assert root.find_all("Object")[1].text_of("VersionId") == "1"
        assert root.text_of("Quiet") == "true"

    def test_prefixed_namespaces_are_dropped_from_tags(self) -> None:
        root = parse(
            b'<s3:CompleteMultipartUpload xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">'
            b"<s3:Part><s3:PartNumber>1</s3:PartNumber><s3:ETag>&quot;x&quot;</s3:ETag></s3:Part>"
            b"</s3:CompleteMultipartUpload>"
        )
        assert root.tag == "CompleteMultipartUpload"
        part = root.find("Part")
        assert part is not None
        assert (part.text_of("PartNumber"), part.text_of("ETag")) == ("1", '"x"')

    def test_a_document_without_a_namespace_parses(self) -> None:
        assert (
            parse(b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>").text_of(
                "Status"
            )
            == "Enabled"
        )

    def test_predefined_entities_character_references_and_cdata_are_text(self) -> None:
        assert parse(b"<Key>a&amp;b&lt;c&#x41;&#66;<![CDATA[<x>]]></Key>").text == "a&b<cAB<x>"

    def test_a_missing_element_has_a_default(self) -> None:
        root = parse(b"<Tagging><TagSet/></Tagging>")
        assert root.text_of("Missing") is None
        assert root.text_of("Missing", "d") == "d"
        assert root.find("Missing") is None
        assert root.find_all("Missing") == []

    def test_a_utf_16_document_with_its_declaration_parses(self) -> None:
        body = '<?xml version="1.0" encoding="UTF-16"?><Key>é</Key>'.encode("utf-16")
        assert parse(body).text == "é"

    def test_comments_and_processing_instructions_are_ignored(self) -> None:
        assert parse(b"<a><!-- note --><?pi x?><b>1</b></a>").text_of("b") == "1"

    def test_nesting_up_to_the_limit_parses(self) -> None:
        assert isinstance(parse(b"<a>" * 16 + b"</a>" * 16), Node)

    def test_nesting_past_the_limit_is_refused(self) -> None:
        with pytest.raises(MalformedXML):
            parse(b"<a>" * 17 + b"</a>" * 17)

    def test_very_deep_nesting_is_refused_without_recursion(self) -> None:
        with pytest.raises(MalformedXML):
            parse(b"<a>" * 100000 + b"</a>" * 100000)

    def test_the_limit_can_be_chosen(self) -> None:
        with pytest.raises(MalformedXML):
            parse(b"<a><b><c/></b></a>", max_depth=2)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Delete><Object><Key>&lol9;</Key></Object></Delete>"""


class TestHostileDocuments:
    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(BILLION_LAUGHS, id="billion-laughs"),
            pytest.param(
                b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                b"<Delete><Object><Key>&xxe;</Key></Object></Delete>",
                id="external-entity-file",
            ),
            pytest.param(
                b'<!DOCTYPE d [<!ENTITY xxe SYSTEM "http://169.254.169.254/latest/meta-data/">]><d>&xxe;</d>',
                id="external-entity-url",
            ),
            pytest.param(
                b'<!DOCTYPE d [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]><d/>',
                id="parameter-entity",
            ),
            pytest.param(b'<!DOCTYPE d SYSTEM "http://evil.example/x.dtd"><d/>', id="external-dtd"),
            pytest.param(b'<!DOCTYPE d [<!ENTITY u SYSTEM "x" NDATA png>]><d/>', id="unparsed-entity"),
            pytest.param(b"<!DOCTYPE d><d/>", id="bare-doctype"),
            pytest.param(b'<!DOCTYPE d [<!ATTLIST d a CDATA "&#38;#38;">]><d/>', id="attlist-default"),
        ],
    )
    def test_doctypes_and_entities_are_refused(self, body: bytes) -> None:
        with pytest.raises(MalformedXML):
            parse(body)

    def test_an_undeclared_entity_is_malformed(self) -> None:
        with pytest.raises(MalformedXML):
            parse(b"<Key>&nbsp;</Key>")

    @pytest.mark.parametrize(
        "body",
        [
            b"",
            b"   ",
            b"not xml",
            b"<a>",
            b"<a></b>",
            b"<a/><b/>",
            b"<a>\x00</a>",
            b"\xff\xfe\xfd",
            b'<?xml version="1.0" encoding="bogus"?><a/>',
            b'<?xml version="1.0" encoding="rot13"?><a/>',
            b'<?xml version="1.0" encoding="utf-7"?><a/>',
            b'<?xml version="1.0" encoding="idna"?><a>\x80</a>',
            b"<a>&#0;</a>",
            b"<a>&#1;</a>",
            b"<a b='1' b='2'/>",
            b"<a>text</a>trailing",
            b"<?xml version='1.0'?>",
        ],
    )
    def test_garbage_is_malformed(self, body: bytes) -> None:
        with pytest.raises(MalformedXML):
            parse(body)
