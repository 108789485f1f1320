"""Accept-Encoding negotiation and on-the-fly compression, against RFC 9110 12.5.3 and 8.4."""

from __future__ import annotations

import gzip
import os
import zlib

import brotli  # type: ignore[import-untyped]
import pytest
import zstandard

from strato.edge.compression import (
    MIN_COMPRESS_SIZE,
    SUPPORTED_ENCODINGS,
    Compressor,
    UnsupportedEncoding,
    add_vary,
    choose_encoding,
    is_compressible,
    parse_accept_encoding,
    strong_to_weak_etag,
)


class TestParsingAcceptEncoding:
    """RFC 9110 12.5.3, its own examples first."""

    def test_the_rfc_examples(self) -> None:
        assert parse_accept_encoding("compress, gzip") == {"compress": 1.0, "gzip": 1.0}
        assert parse_accept_encoding("") == {}
        assert parse_accept_encoding("*") == {"*": 1.0}
        assert parse_accept_encoding("compress;q=0.5, gzip;q=1.0") == {"compress": 0.5, "gzip": 1.0}
        assert parse_accept_encoding("gzip;q=1.0, identity; q=0.5, *;q=0") == {"gzip": 1.0, "identity": 0.5, "*": 0.0}

    def test_an_absent_header_names_nothing(self) -> None:
        assert parse_accept_encoding(None) == {}

    def test_names_are_case_insensitive_and_x_gzip_is_gzip(self) -> None:
        assert parse_accept_encoding("GZip, X-GZIP;q=0.3, BR") == {"gzip": 0.3, "br": 1.0}

    def test_the_q_parameter_name_is_case_insensitive_and_spaces_are_allowed(self) -> None:
        assert parse_accept_encoding("br ; Q=0.25") == {"br": 0.25}

    @pytest.mark.parametrize("bad", ["q=2", "q=1.5", "q=0.1234", "q=-1", "q=abc", "q=", "q", "q=.5", "q=1.01"])
    def test_an_item_with_a_malformed_q_is_ignored(self, bad: str) -> None:
        assert parse_accept_encoding(f"br;{bad}, gzip") == {"gzip": 1.0}

    def test_q_values_at_the_grammar_limits_are_read(self) -> None:
        assert parse_accept_encoding("a;q=0, b;q=0., c;q=0.001, d;q=1.000, e;q=1") == {
            "a": 0.0, "b": 0.0, "c": 0.001, "d": 1.0, "e": 1.0}

    def test_empty_members_and_unknown_parameters_are_skipped(self) -> None:
        assert parse_accept_encoding(" , gzip;level=9 ,, br") == {"gzip": 1.0, "br": 1.0}

    def test_a_coding_named_twice_keeps_its_lowest_q(self) -> None:
        assert parse_accept_encoding("gzip, gzip;q=0") == {"gzip": 0.0}

    def test_a_name_that_is_not_a_token_is_ignored(self) -> None:
        assert parse_accept_encoding('"gzip", br') == {"br": 1.0}


class TestChoosingAnEncoding:
    def test_no_header_means_identity(self) -> None:
        assert choose_encoding(None) is None

    def test_an_empty_header_means_identity(self) -> None:
        """12.5.3: an empty value: the user agent does not want any content coding."""
        assert choose_encoding("") is None

    def test_a_browser_gets_brotli_first(self) -> None:
        assert choose_encoding("gzip, deflate, br, zstd") == "br"

    def test_an_older_client_gets_gzip(self) -> None:
        assert choose_encoding("gzip, deflate") == "gzip"

    def test_the_highest_q_wins_over_the_order_of_available(self) -> None:
        assert choose_encoding("br;q=0.5, gzip;q=0.9") == "gzip"

    def test_equal_q_values_follow_the_order_of_available(self) -> None:
        assert choose_encoding("gzip, br") == "br"
        assert choose_encoding("gzip, br", available=("gzip", "br")) == "gzip"

    def test_q_zero_means_not_acceptable(self) -> None:
        assert choose_encoding("br;q=0, gzip") == "gzip"
        assert choose_encoding("br;q=0, gzip;q=0") is None

    def test_the_wildcard_covers_codings_not_named(self) -> None:
        assert choose_encoding("*") == "br"
        assert choose_encoding("br;q=0, *") == "zstd"
        assert choose_encoding("br;q=0, zstd;q=0, *") == "gzip"
        assert choose_encoding("gzip;q=0.2, *;q=0.5") == "br"

    def test_a_wildcard_at_zero_excludes_codings_not_named(self) -> None:
        assert choose_encoding("*;q=0") is None
        assert choose_encoding("gzip;q=0.1, *;q=0") == "gzip"

    def test_only_codings_we_can_produce_are_chosen(self) -> None:
        assert choose_encoding("deflate, compress") is None

    def test_an_identity_preferred_outright_is_honoured(self) -> None:
        assert choose_encoding("gzip;q=0.5, identity") is None
        assert choose_encoding("gzip;q=0.5, identity;q=0.5") == "gzip"

    def test_zstd_is_offered_when_available_names_it(self) -> None:
        assert choose_encoding("zstd, gzip", available=("zstd", "br", "gzip")) == "zstd"

    def test_every_supported_coding_is_offered_brotli_first_on_a_tie(self) -> None:
        assert choose_encoding("zstd") == "zstd"
        assert choose_encoding("gzip, deflate, br, zstd") == "br"  # what browsers send
        assert choose_encoding("gzip, zstd") == "zstd"
        assert choose_encoding("zstd;q=0.5, gzip") == "gzip"

    def test_brotli_zstd_and_gzip_are_produced_in_that_order_of_preference(self) -> None:
        assert SUPPORTED_ENCODINGS == ("br", "zstd", "gzip")


class TestWhatIsCompressible:
    BIG = MIN_COMPRESS_SIZE

    @pytest.mark.parametrize("content_type", [
        "text/html; charset=utf-8", "text/css", "text/plain", "TEXT/CSV", "application/json",
        "application/problem+json", "application/ld+json", "application/javascript", "application/xml",
        "application/atom+xml", "image/svg+xml", "application/wasm", "font/ttf",
    ])
    def test_text_like_types_are_compressed(self, content_type: str) -> None:
        assert is_compressible(content_type, None, self.BIG, None)

    @pytest.mark.parametrize("content_type", [
        "image/png", "image/jpeg", "image/webp", "video/mp4", "application/zip", "application/gzip",
        "font/woff2", "application/octet-stream", "text/event-stream", "", None,
    ])
    def test_binary_already_compressed_streaming_or_unknown_types_are_not(self, content_type: str | None) -> None:
        assert not is_compressible(content_type, None, self.BIG, None)

    def test_a_body_already_content_coded_is_not_compressed_again(self) -> None:
        assert not is_compressible("text/html", "gzip", self.BIG, None)
        assert not is_compressible("text/html", "identity, br", self.BIG, None)

    def test_an_identity_content_encoding_is_no_coding(self) -> None:
        assert is_compressible("text/html", "identity", self.BIG, None)
        assert is_compressible("text/html", "", self.BIG, None)

    def test_no_transform_forbids_it(self) -> None:
        """RFC 9111 5.2.2.6."""
        assert not is_compressible("text/html", None, self.BIG, "public, No-Transform, max-age=60")
        assert not is_compressible("text/html", None, self.BIG, "no-transform")

    def test_no_transform_only_as_a_directive_counts(self) -> None:
        assert is_compressible("text/html", None, self.BIG, 'private="x, no-transform", max-age=5')
        assert is_compressible("text/html", None, self.BIG, "max-age=60")

    def test_bodies_under_the_minimum_are_sent_as_they_are(self) -> None:
        assert not is_compressible("text/html", None, MIN_COMPRESS_SIZE - 1, None)
        assert is_compressible("text/html", None, MIN_COMPRESS_SIZE, None)

    def test_a_body_of_unknown_size_may_be_compressed(self) -> None:
        assert is_compressible("application/json", None, None, None)


def _compress_in_chunks(encoding: str, data: bytes, chunk: int = 4096) -> bytes:
    compressor = Compressor(encoding)
    out = [compressor.compress(data[i:i + chunk]) for i in range(0, len(data), chunk)]
    out.append(compressor.flush())
    return b"".join(out)


def _decode(encoding: str, coded: bytes) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(coded)
    if encoding == "br":
        decoded: bytes = brotli.decompress(coded)
        return decoded
    decompressor = zstandard.ZstdDecompressor().decompressobj()
    decoded = decompressor.decompress(coded)
    assert isinstance(decoded, bytes)
    return decoded


BODY = b"".join(b"line %d of a repetitive text body that compresses well\n" % i for i in range(20_000))


class TestTheCompressor:
    def test_gzip_output_is_a_gzip_member(self) -> None:
        coded = _compress_in_chunks("gzip", BODY)
        assert coded[:2] == b"\x1f\x8b"
        assert gzip.decompress(coded) == BODY
        assert len(coded) < len(BODY) // 5

    def test_brotli_output_decodes_with_brotli(self) -> None:
        coded = _compress_in_chunks("br", BODY)
        assert brotli.decompress(coded) == BODY
        assert len(coded) < len(BODY) // 5

    def test_zstd_output_decodes_with_zstandard(self) -> None:
        coded = _compress_in_chunks("zstd", BODY)
        assert coded[:4] == b"\x28\xb5\x2f\xfd"
        assert _decode("zstd", coded) == BODY

    @pytest.mark.parametrize("encoding", SUPPORTED_ENCODINGS)
    def test_an_empty_body_is_a_valid_empty_stream(self, encoding: str) -> None:
        coded = Compressor(encoding).flush()
        assert coded
        assert _decode(encoding, coded) == b""

    @pytest.mark.parametrize("encoding", SUPPORTED_ENCODINGS)
    def test_chunks_of_any_size_round_trip(self, encoding: str) -> None:
        for chunk in (1, 7, 65536, len(BODY)):
            assert _decode(encoding, _compress_in_chunks(encoding, BODY[:200_000], chunk)) == BODY[:200_000]

    def test_incompressible_bytes_survive_a_round_trip(self) -> None:
        noise = os.urandom(200_000)
        assert zlib.decompress(_compress_in_chunks("gzip", noise, 1000), wbits=31) == noise
        assert brotli.decompress(_compress_in_chunks("br", noise, 1000)) == noise

    @pytest.mark.parametrize("encoding", SUPPORTED_ENCODINGS)
    def test_output_comes_out_while_the_input_streams_in(self, encoding: str) -> None:
        """Bounded memory: the coder emits as it goes instead of holding the whole body (brotli
        holds back up to its 512 KiB window, so the input is several windows long)."""
        noise = os.urandom(4 << 20)
        compressor = Compressor(encoding)
        emitted = sum(len(compressor.compress(noise[i:i + 65536])) for i in range(0, len(noise), 65536))
        assert emitted > len(noise) // 2
        compressor.flush()

    def test_the_level_can_be_chosen(self) -> None:
        fast, best = Compressor("gzip", level=1), Compressor("gzip", level=9)
        assert len(fast.compress(BODY) + fast.flush()) > len(best.compress(BODY) + best.flush())

    def test_encoding_names_are_case_insensitive(self) -> None:
        assert Compressor("GZIP").encoding == "gzip"

    @pytest.mark.parametrize("encoding", ["deflate", "compress", "identity", "x-unknown"])
    def test_an_unknown_coding_is_refused(self, encoding: str) -> None:
        with pytest.raises(UnsupportedEncoding):
            Compressor(encoding)

    def test_a_finished_compressor_refuses_more(self) -> None:
        compressor = Compressor("gzip")
        compressor.flush()
        with pytest.raises(RuntimeError):
            compressor.compress(b"more")
        with pytest.raises(RuntimeError):
            compressor.flush()


class TestVary:
    def test_vary_is_added_when_absent(self) -> None:
        headers: dict[str, str] = {"content-type": "text/html"}
        add_vary(headers)
        assert headers["vary"] == "accept-encoding"

    def test_vary_is_extended_without_duplicates(self) -> None:
        headers = {"Vary": "Origin"}
        add_vary(headers)
        add_vary(headers)
        assert headers == {"Vary": "Origin, accept-encoding"}

    def test_an_existing_member_in_another_case_is_not_repeated(self) -> None:
        headers = {"vary": "Accept-Encoding, Origin"}
        add_vary(headers)
        assert headers == {"vary": "Accept-Encoding, Origin"}

    def test_vary_star_is_left_alone(self) -> None:
        headers = {"vary": "*"}
        add_vary(headers)
        assert headers == {"vary": "*"}

    def test_another_field_can_be_added(self) -> None:
        headers = {"vary": "accept-encoding"}
        add_vary(headers, "origin")
        assert headers["vary"] == "accept-encoding, origin"


class TestWeakeningTheEtag:
    def test_a_strong_etag_becomes_weak(self) -> None:
        assert strong_to_weak_etag('"abc"') == 'W/"abc"'

    def test_a_weak_etag_stays_as_it_is(self) -> None:
        assert strong_to_weak_etag('W/"abc"') == 'W/"abc"'

    def test_an_unquoted_etag_is_quoted(self) -> None:
        assert strong_to_weak_etag("abc") == 'W/"abc"'
