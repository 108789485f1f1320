"""aws-chunked bodies: AWS's published chunked-upload examples, boto3's own encoder, and
hostile framing refused before anything is buffered.

Source: Amazon S3 API reference, "Signature Calculations for the Authorization Header:
Transferring Payload in Multiple Chunks (Chunked Upload)" and "... Including Trailing Headers".
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import random
import zlib
from collections.abc import AsyncIterator, Iterable

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from strato.auth import chunked, sigv4
from strato.auth.errors import AuthError
from tests.auth.wire import ACCESS_KEY, SECRET_KEY, client, sent_by, verify_v4, wire_request

AMZ_DATE = "20130524T000000Z"
SCOPE = sigv4.Scope(ACCESS_KEY, "20130524", "us-east-1", "s3")
KEY = sigv4.signing_key(SECRET_KEY, "20130524", "us-east-1", "s3")
EXAMPLE_NOW = 1369353600.0
PAYLOAD = b"a" * 66560

SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
FIRST = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
SECOND = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
FINAL = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
EXAMPLE_BODY = (
    f"10000;chunk-signature={FIRST}\r\n".encode()
    + b"a" * 65536
    + b"\r\n"
    + f"400;chunk-signature={SECOND}\r\n".encode()
    + b"a" * 1024
    + b"\r\n"
    + f"0;chunk-signature={FINAL}\r\n\r\n".encode()
)

# The trailing-headers example: the same 66560 bytes, a CRC32C trailer, a signed trailer.
TRAILER_SEED = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
TRAILER_SIGNATURE = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
TRAILER_EXAMPLE_BODY = (
    b"10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n"
    + b"a" * 65536
    + b"\r\n"
    + b"400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n"
    + b"a" * 1024
    + b"\r\n"
    + b"0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n"
    + b"x-amz-checksum-crc32c:sOO8/Q==\r\n"
    + f"x-amz-trailer-signature:{TRAILER_SIGNATURE}\r\n\r\n".encode()
)


def example_signer(seed: str = SEED, signed_trailer: bool = False) -> chunked.ChunkSigner:
    return chunked.ChunkSigner(KEY, AMZ_DATE, SCOPE, seed, signed_trailer)


def decode(
    pieces: Iterable[bytes], signer: chunked.ChunkSigner | None, decoded_length: int | None = None
) -> tuple[bytes, chunked.ChunkedDecoder]:
    decoder = chunked.ChunkedDecoder(signer, decoded_length)
    out = bytearray()
    for piece in pieces:
        for data in decoder.feed(piece):
            out += data
    decoder.finish()
    return bytes(out), decoder


def random_split(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    pieces, at = [], 0
    while at < len(data):
        size = rng.choice([1, 2, 3, 7, 64, 85, 86, 87, 1000, 4096, 65536, 70000])
        pieces.append(data[at : at + size])
        at += size
    return pieces


def refusal(
    pieces: Iterable[bytes], signer: chunked.ChunkSigner | None, decoded_length: int | None = None
) -> AuthError:
    with pytest.raises(AuthError) as caught:
        decode(pieces, signer, decoded_length)
    return caught.value


def crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


class TestTheAwsChunkedExample:
    def test_the_example_body_is_as_long_as_its_documented_content_length(self) -> None:
        assert len(EXAMPLE_BODY) == 66824

    def test_the_example_request_carries_the_documented_seed_signature(self) -> None:
        request = wire_request(
            "PUT",
            "http://s3.amazonaws.com/examplebucket/chunkObject.txt",
            [
                ("Content-Encoding", "aws-chunked"),
                ("Content-Length", "66824"),
                ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
                ("x-amz-date", AMZ_DATE),
                ("x-amz-decoded-content-length", "66560"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                (
                    "Authorization",
                    f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20130524/us-east-1/s3/aws4_request,"
                    "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
                    f"x-amz-decoded-content-length;x-amz-storage-class,Signature={SEED}",
                ),
            ],
        )
        verified = verify_v4(request, now=EXAMPLE_NOW)
        assert verified.payload_hash == sigv4.STREAMING_SIGNED
        signer = chunked.ChunkSigner(
            verified.key, verified.amz_date, verified.scope, verified.signature, False
        )
        assert decode([EXAMPLE_BODY], signer, 66560)[0] == PAYLOAD

    def test_the_chunks_chain_on_the_documented_signatures(self) -> None:
        empty = sigv4.EMPTY_SHA256
        first = sigv4.sign(
            KEY, sigv4.chunk_string_to_sign(AMZ_DATE, SCOPE, SEED, hashlib.sha256(b"a" * 65536).hexdigest())
        )
        second = sigv4.sign(
            KEY, sigv4.chunk_string_to_sign(AMZ_DATE, SCOPE, first, hashlib.sha256(b"a" * 1024).hexdigest())
        )
        final = sigv4.sign(KEY, sigv4.chunk_string_to_sign(AMZ_DATE, SCOPE, second, empty))
        assert (first, second, final) == (FIRST, SECOND, FINAL)

    def test_the_body_decodes_to_the_payload_in_one_piece(self) -> None:
        data, decoder = decode([EXAMPLE_BODY], example_signer(), 66560)
        assert data == PAYLOAD
        assert decoder.done
        assert decoder.decoded == 66560
        assert decoder.trailers == {}

    def test_the_body_decodes_to_the_payload_fed_byte_by_byte(self) -> None:
        pieces = [EXAMPLE_BODY[i : i + 1] for i in range(len(EXAMPLE_BODY))]
        assert decode(pieces, example_signer(), 66560)[0] == PAYLOAD

    @pytest.mark.parametrize("seed", range(20))
    def test_the_body_decodes_to_the_payload_however_it_is_split(self, seed: int) -> None:
        assert decode(random_split(EXAMPLE_BODY, seed), example_signer(), 66560)[0] == PAYLOAD

    @pytest.mark.parametrize("at", [0, 1, 16, 32, 64])
    def test_the_body_decodes_when_split_around_every_line_end(self, at: int) -> None:
        cut = EXAMPLE_BODY.index(b"\r\n") - 2 + at
        assert decode([EXAMPLE_BODY[:cut], EXAMPLE_BODY[cut:]], example_signer(), 66560)[0] == PAYLOAD

    def test_payload_is_handed_on_as_it_arrives_not_held_until_the_chunk_ends(self) -> None:
        decoder = chunked.ChunkedDecoder(example_signer(), 66560)
        header_end = EXAMPLE_BODY.index(b"\r\n") + 2
        assert b"".join(decoder.feed(EXAMPLE_BODY[: header_end + 1000])) == b"a" * 1000

    @pytest.mark.parametrize("offset", [100, 65535, 66000])
    def test_a_flipped_data_byte_breaks_the_chunk_signature(self, offset: int) -> None:
        start = EXAMPLE_BODY.index(b"\r\n") + 2 if offset < 65536 else EXAMPLE_BODY.index(b"400;") + 86
        at = start + offset % 65536
        body = EXAMPLE_BODY[:at] + b"b" + EXAMPLE_BODY[at + 1 :]
        assert refusal([body], example_signer(), 66560).code == "SignatureDoesNotMatch"

    @pytest.mark.parametrize("signature", [FIRST, SECOND, FINAL])
    def test_a_flipped_signature_digit_is_refused(self, signature: str) -> None:
        wrong = ("1" if signature[0] != "1" else "2") + signature[1:]
        body = EXAMPLE_BODY.replace(signature.encode(), wrong.encode())
        assert refusal([body], example_signer(), 66560).code == "SignatureDoesNotMatch"

    def test_chunks_swapped_from_another_upload_are_refused(self) -> None:
        assert refusal([EXAMPLE_BODY], example_signer(seed="0" * 64), 66560).code == "SignatureDoesNotMatch"

    def test_a_signed_chunk_without_its_signature_is_refused(self) -> None:
        body = b"3\r\nabc\r\n0\r\n\r\n"
        assert refusal([body], example_signer(), 3).code == "SignatureDoesNotMatch"

    def test_a_bad_chunk_is_refused_before_the_body_ends(self) -> None:
        decoder = chunked.ChunkedDecoder(example_signer(), 66560)
        first_chunk_end = EXAMPLE_BODY.index(b"400;")
        body = EXAMPLE_BODY[:100] + b"b" + EXAMPLE_BODY[101:first_chunk_end]
        with pytest.raises(AuthError):
            decoder.feed(body)

    def test_truncating_the_final_chunk_is_refused_at_the_end(self) -> None:
        decoder = chunked.ChunkedDecoder(example_signer(), 66560)
        decoder.feed(EXAMPLE_BODY[: EXAMPLE_BODY.index(b"0;chunk-signature")])
        with pytest.raises(AuthError) as caught:
            decoder.finish()
        assert caught.value.code == "IncompleteBody"

    @pytest.mark.parametrize("cut", [0, 10, 1000, 65624, 66000, 66823])
    def test_a_body_cut_short_anywhere_is_incomplete(self, cut: int) -> None:
        error = refusal([EXAMPLE_BODY[:cut]], example_signer(), 66560)
        assert (error.code, error.status) == ("IncompleteBody", 400)


class TestTheAwsTrailerExample:
    def test_the_example_checksum_is_the_crc32c_of_the_payload(self) -> None:
        from awscrt import checksums

        assert base64.b64encode(checksums.crc32c(PAYLOAD).to_bytes(4, "big")) == b"sOO8/Q=="

    def test_the_example_request_carries_the_documented_seed_signature(self) -> None:
        request = wire_request(
            "PUT",
            "http://s3.amazonaws.com/examplebucket/chunkObject.txt",
            [
                ("Content-Encoding", "aws-chunked"),
                ("x-amz-content-sha256", sigv4.STREAMING_SIGNED_TRAILER),
                ("x-amz-date", AMZ_DATE),
                ("x-amz-decoded-content-length", "66560"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ("x-amz-trailer", "x-amz-checksum-crc32c"),
                (
                    "Authorization",
                    f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20130524/us-east-1/s3/aws4_request,"
                    "SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
                    f"x-amz-storage-class;x-amz-trailer,Signature={TRAILER_SEED}",
                ),
            ],
        )
        verified = verify_v4(request, now=EXAMPLE_NOW)
        assert verified.payload_hash == sigv4.STREAMING_SIGNED_TRAILER

    @pytest.mark.parametrize("seed", [None, 1, 2, 3])
    def test_the_signed_trailer_verifies_and_is_handed_back(self, seed: int | None) -> None:
        pieces = [TRAILER_EXAMPLE_BODY] if seed is None else random_split(TRAILER_EXAMPLE_BODY, seed)
        data, decoder = decode(pieces, example_signer(TRAILER_SEED, signed_trailer=True), 66560)
        assert data == PAYLOAD
        assert decoder.trailers["x-amz-checksum-crc32c"] == "sOO8/Q=="

    def test_the_signed_trailer_decodes_fed_byte_by_byte(self) -> None:
        pieces = [TRAILER_EXAMPLE_BODY[i : i + 1] for i in range(len(TRAILER_EXAMPLE_BODY))]
        data, _ = decode(pieces, example_signer(TRAILER_SEED, signed_trailer=True), 66560)
        assert data == PAYLOAD

    def test_a_changed_trailer_value_is_refused(self) -> None:
        body = TRAILER_EXAMPLE_BODY.replace(b"sOO8/Q==", b"AAAAAA==")
        error = refusal([body], example_signer(TRAILER_SEED, signed_trailer=True), 66560)
        assert error.code == "SignatureDoesNotMatch"

    def test_an_added_trailer_is_refused(self) -> None:
        body = TRAILER_EXAMPLE_BODY.replace(
            b"x-amz-trailer-signature", b"x-amz-meta-evil:1\r\nx-amz-trailer-signature"
        )
        error = refusal([body], example_signer(TRAILER_SEED, signed_trailer=True), 66560)
        assert error.code == "SignatureDoesNotMatch"

    def test_a_missing_trailer_signature_is_refused(self) -> None:
        body = TRAILER_EXAMPLE_BODY.replace(f"x-amz-trailer-signature:{TRAILER_SIGNATURE}\r\n".encode(), b"")
        error = refusal([body], example_signer(TRAILER_SEED, signed_trailer=True), 66560)
        assert error.code == "SignatureDoesNotMatch"

    def test_a_body_ending_at_the_zero_chunk_cannot_skip_the_signed_trailer(self) -> None:
        body = TRAILER_EXAMPLE_BODY[: TRAILER_EXAMPLE_BODY.index(b"x-amz-checksum-crc32c")]
        error = refusal([body], example_signer(TRAILER_SEED, signed_trailer=True), 66560)
        assert error.code == "IncompleteBody"

    def test_a_trailer_cut_before_its_blank_line_is_incomplete(self) -> None:
        error = refusal([TRAILER_EXAMPLE_BODY[:-2]], example_signer(TRAILER_SEED, signed_trailer=True), 66560)
        assert error.code == "IncompleteBody"


class TestUnsignedChunksWithTrailers:
    def test_chunks_and_a_checksum_trailer_decode(self) -> None:
        body = (
            f"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:{crc32(b'hello world')}\r\n\r\n".encode()
        )
        data, decoder = decode([body], None, 11)
        assert data == b"hello world"
        assert decoder.trailers == {"x-amz-checksum-crc32": crc32(b"hello world")}

    def test_trailer_names_are_case_insensitive_and_values_trimmed(self) -> None:
        body = b"1\r\na\r\n0\r\nX-Amz-Checksum-CRC32:  6J4URg==  \r\n\r\n"
        assert decode([body], None, 1)[1].trailers == {"x-amz-checksum-crc32": "6J4URg=="}

    def test_an_empty_body_is_a_single_zero_chunk(self) -> None:
        data, decoder = decode([b"0\r\n\r\n"], None, 0)
        assert (data, decoder.done) == (b"", True)

    def test_an_upper_case_chunk_size_is_hex(self) -> None:
        assert decode([b"A\r\n0123456789\r\n0\r\n\r\n"], None, 10)[0] == b"0123456789"

    def test_crlf_inside_chunk_data_is_data(self) -> None:
        assert decode([b"4\r\n\r\n\r\n\r\n0\r\n\r\n"], None, 4)[0] == b"\r\n\r\n"

    def test_a_trailer_without_a_colon_is_refused(self) -> None:
        assert refusal([b"1\r\na\r\n0\r\nnot a header\r\n\r\n"], None, 1).code == "IncompleteBody"

    def test_trailers_past_their_size_limit_are_refused(self) -> None:
        body = b"0\r\n" + b"x-amz-meta-a:" + b"b" * 4000 + b"\r\n"
        assert refusal([b"1\r\na\r\n", body * 5], None, 1).code == "IncompleteBody"

    def test_data_after_the_end_of_the_body_is_refused(self) -> None:
        assert refusal([b"1\r\na\r\n0\r\n\r\nextra"], None, 1).code == "IncompleteBody"

    def test_data_longer_than_its_chunk_size_is_refused(self) -> None:
        assert refusal([b"3\r\nabcd\r\n0\r\n\r\n"], None, 4).code == "IncompleteBody"

    def test_a_body_shorter_than_its_decoded_length_is_refused(self) -> None:
        assert refusal([b"3\r\nabc\r\n0\r\n\r\n"], None, 4).code == "IncompleteBody"

    def test_a_body_ending_right_after_the_zero_chunk_without_its_blank_line_is_tolerated(self) -> None:
        assert decode([b"1\r\na\r\n0\r\n"], None, 1)[0] == b"a"
        assert decode([EXAMPLE_BODY[:-2]], example_signer(), 66560)[0] == PAYLOAD

    def test_an_empty_input_is_incomplete(self) -> None:
        assert refusal([], None, 0).code == "IncompleteBody"


class TestHostileFramingIsRefusedAtOnce:
    def test_a_chunk_larger_than_the_declared_decoded_length_is_refused_on_its_size_line(self) -> None:
        decoder = chunked.ChunkedDecoder(None, 100)
        with pytest.raises(AuthError) as caught:
            decoder.feed(b"65\r\n")
        assert caught.value.code == "InvalidChunkSizeError"

    def test_chunks_adding_up_past_the_decoded_length_are_refused(self) -> None:
        decoder = chunked.ChunkedDecoder(None, 5)
        decoder.feed(b"3\r\nabc\r\n")
        with pytest.raises(AuthError) as caught:
            decoder.feed(b"3\r\n")
        assert caught.value.code == "InvalidChunkSizeError"

    @pytest.mark.parametrize(
        "size_line", [b"10000000000000000\r\n", b"fffffffffffffffff;chunk-signature=0\r\n"]
    )
    def test_a_chunk_size_of_seventeen_hex_digits_is_refused(self, size_line: bytes) -> None:
        decoder = chunked.ChunkedDecoder(None, None)
        with pytest.raises(AuthError) as caught:
            decoder.feed(size_line)
        assert caught.value.code == "InvalidChunkSizeError"

    @pytest.mark.parametrize(
        "size_line", [b"\r\n", b"zz\r\n", b"-1\r\n", b"0x10\r\n", b"1 0\r\n", b"\xd9\xa1\r\n"]
    )
    def test_a_chunk_size_that_is_not_hex_is_refused(self, size_line: bytes) -> None:
        decoder = chunked.ChunkedDecoder(None, None)
        with pytest.raises(AuthError) as caught:
            decoder.feed(size_line)
        assert caught.value.code == "InvalidChunkSizeError"

    def test_a_line_longer_than_4096_bytes_is_refused_within_the_feed_that_passes_the_limit(self) -> None:
        decoder = chunked.ChunkedDecoder(None, None)
        for _ in range(4):
            decoder.feed(b"1" * 1024)
        with pytest.raises(AuthError) as caught:
            decoder.feed(b"1")
        assert caught.value.code == "IncompleteBody"

    def test_a_megabyte_without_a_line_end_is_refused_in_one_feed(self) -> None:
        decoder = chunked.ChunkedDecoder(None, None)
        with pytest.raises(AuthError):
            decoder.feed(b"0" * (1 << 20))

    def test_a_long_chunk_extension_is_refused(self) -> None:
        decoder = chunked.ChunkedDecoder(None, None)
        with pytest.raises(AuthError):
            decoder.feed(b"1;chunk-signature=" + b"0" * 5000 + b"\r\n")

    def test_a_long_line_split_across_feeds_with_its_end_in_the_last_is_refused(self) -> None:
        decoder = chunked.ChunkedDecoder(None, None)
        decoder.feed(b"1;x=" + b"0" * 4000)
        with pytest.raises(AuthError):
            decoder.feed(b"0" * 200 + b"\r\n")


class TestBoto3sOwnEncoder:
    @pytest.mark.parametrize("size", [0, 1, 1023, 1024, 1025, 70000])
    def test_an_aws_chunked_wrapper_body_decodes_with_its_checksum_trailer(self, size: int) -> None:
        payload = random.Random(size).randbytes(size)
        wrapper = AwsChunkedWrapper(
            io.BytesIO(payload),
            checksum_cls=Crc32Checksum,
            checksum_name="x-amz-checksum-crc32",
            chunk_size=1024,
        )
        body = wrapper.read()
        data, decoder = decode(random_split(body, size), None, size)
        assert data == payload
        assert decoder.trailers == {"x-amz-checksum-crc32": crc32(payload)}

    def test_a_put_over_https_sends_an_unsigned_trailer_body_that_verifies_and_decodes(self) -> None:
        payload = b"x" * 70000
        sent = sent_by(
            client("https://127.0.0.1:9000"),
            lambda s3: s3.put_object(Bucket="bucket", Key="big", Body=io.BytesIO(payload)),
        )
        request = sent.request()
        verified = verify_v4(request)
        assert verified.payload_hash == sigv4.STREAMING_UNSIGNED_TRAILER
        assert request.headers["x-amz-decoded-content-length"] == "70000"
        data, decoder = decode([sent.body], None, 70000)
        assert data == payload
        assert decoder.trailers[request.headers["x-amz-trailer"]] == crc32(payload)


async def _pieces(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _collect(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([piece async for piece in stream])


class TestTheStreamingWrapper:
    def test_decode_streams_the_payload_and_checks_the_end(self) -> None:
        decoder = chunked.ChunkedDecoder(example_signer(), 66560)
        data = asyncio.run(_collect(chunked.decode(_pieces(random_split(EXAMPLE_BODY, 7)), decoder)))
        assert data == PAYLOAD

    def test_decode_raises_when_the_stream_stops_early(self) -> None:
        decoder = chunked.ChunkedDecoder(example_signer(), 66560)
        with pytest.raises(AuthError) as caught:
            asyncio.run(_collect(chunked.decode(_pieces([EXAMPLE_BODY[:-10]]), decoder)))
        assert caught.value.code == "IncompleteBody"
