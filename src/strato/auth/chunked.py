"""aws-chunked request bodies: chunk framing, chained chunk signatures and trailers.

Source: Amazon S3 API reference, "Signature Calculations for the Authorization Header:
Transferring Payload in Multiple Chunks (Chunked Upload)" and "... Including Trailing
Headers". A sans-I/O decoder: feed it bytes, get payload bytes back; it refuses oversized
lines and chunk sizes at once, so nothing hostile is ever buffered.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass

from strato.auth import sigv4
from strato.auth.errors import AuthError

MAX_LINE = 4096
MAX_TRAILER_BYTES = 16 * 1024


def _framing(message: str) -> AuthError:
    return AuthError("IncompleteBody", message, 400)


@dataclass(frozen=True, slots=True)
class ChunkSigner:
    """What chained chunk signatures need: the seed signature and the signing key."""

    key: bytes
    amz_date: str
    scope: sigv4.Scope
    seed: str
    signed_trailer: bool


class ChunkedDecoder:
    """States: SIZE -> DATA -> DATA_END -> SIZE ... -> (zero chunk) TRAILERS -> DONE."""

    def __init__(self, signer: ChunkSigner | None, decoded_length: int | None) -> None:
        self._signer = signer
        self._previous = signer.seed if signer else ""
        self._remaining_total = decoded_length
        self._state = "SIZE"
        self._buffer = b""
        self._chunk_left = 0
        self._chunk_signature = ""
        self._chunk_hash = hashlib.sha256() if signer else None
        self._trailer_lines: list[str] = []
        self._trailer_bytes = 0
        self.trailers: dict[str, str] = {}
        self.decoded = 0

    @property
    def done(self) -> bool:
        return self._state == "DONE"

    def feed(self, data: bytes) -> list[bytes]:
        out: list[bytes] = []
        view = memoryview(data)
        while view:
            if self._state == "DATA":
                take = min(self._chunk_left, len(view))
                piece = bytes(view[:take])
                view = view[take:]
                self._chunk_left -= take
                if self._chunk_hash is not None:
                    self._chunk_hash.update(piece)
                out.append(piece)
                if self._chunk_left == 0:
                    self._state = "DATA_END"
                continue
            if self._state == "DONE":
                raise _framing("data after the end of an aws-chunked body")
            newline = bytes(view[: MAX_LINE + 1]).find(b"\n")
            if newline < 0:
                # Refuse before copying: a hostile feed without a line end is never buffered.
                if len(self._buffer) + len(view) > MAX_LINE:
                    raise _framing("aws-chunked line too long")
                self._buffer += view.tobytes()
                break
            line = self._buffer + view[:newline].tobytes()
            view = view[newline + 1 :]
            self._buffer = b""
            if len(line) > MAX_LINE:
                raise _framing("aws-chunked line too long")
            self._line(line.rstrip(b"\r").decode("latin-1"))
        return out

    def _line(self, line: str) -> None:
        if self._state == "DATA_END":
            if line:
                raise _framing("chunk data longer than its declared size")
            self._end_chunk()
            self._state = "SIZE"
        elif self._state == "SIZE":
            self._size_line(line)
        elif self._state == "TRAILERS":
            self._trailer_line(line)

    def _size_line(self, line: str) -> None:
        size_text, _, extension = line.partition(";")
        size_text = size_text.strip()
        if not size_text or len(size_text) > 16 or any(c not in "0123456789abcdefABCDEF" for c in size_text):
            raise AuthError("InvalidChunkSizeError", "invalid aws-chunked chunk size", 400)
        size = int(size_text, 16)
        if self._remaining_total is not None:
            if size > self._remaining_total:
                raise AuthError("InvalidChunkSizeError", "chunk larger than x-amz-decoded-content-length", 400)
            self._remaining_total -= size
        self._chunk_signature = ""
        if extension:
            name, _, value = extension.partition("=")
            if name.strip() == "chunk-signature":
                self._chunk_signature = value.strip()
        if self._signer is not None and not self._chunk_signature:
            raise AuthError("SignatureDoesNotMatch", "missing chunk-signature", 403)
        self._chunk_left = size
        self.decoded += size
        if size == 0:
            self._end_chunk()
            if self._remaining_total not in (None, 0):
                raise _framing("body shorter than x-amz-decoded-content-length")
            self._state = "TRAILERS"
        else:
            self._state = "DATA"

    def _end_chunk(self) -> None:
        if self._signer is None or self._chunk_hash is None:
            return
        text = sigv4.chunk_string_to_sign(
            self._signer.amz_date, self._signer.scope, self._previous, self._chunk_hash.hexdigest()
        )
        expected = sigv4.sign(self._signer.key, text)
        if not hmac.compare_digest(expected, self._chunk_signature):
            raise AuthError("SignatureDoesNotMatch", "The chunk signature does not match.", 403)
        self._previous = expected
        self._chunk_hash = hashlib.sha256()

    def _trailer_line(self, line: str) -> None:
        self._trailer_bytes += len(line) + 2
        if self._trailer_bytes > MAX_TRAILER_BYTES:
            raise _framing("trailers too large")
        if line:
            name, sep, value = line.partition(":")
            if not sep:
                raise _framing("malformed trailer")
            self.trailers[name.strip().lower()] = value.strip()
            if name.strip().lower() != "x-amz-trailer-signature":
                self._trailer_lines.append(f"{name.strip().lower()}:{value.strip()}\n")
            return
        if self._signer is not None and self._signer.signed_trailer:
            signature = self.trailers.get("x-amz-trailer-signature", "")
            digest = hashlib.sha256("".join(self._trailer_lines).encode()).hexdigest()
            text = sigv4.trailer_string_to_sign(self._signer.amz_date, self._signer.scope, self._previous, digest)
            if not hmac.compare_digest(sigv4.sign(self._signer.key, text), signature):
                raise AuthError("SignatureDoesNotMatch", "The trailer signature does not match.", 403)
        self._state = "DONE"

    def finish(self) -> None:
        """Called at end of input: the body must have ended exactly at its final CRLF."""
        signed_trailer = self._signer is not None and self._signer.signed_trailer
        if self._state == "TRAILERS" and not self._buffer and not self.trailers and not signed_trailer:
            self._state = "DONE"  # tolerated: no trailers and no final blank line
        if self._state != "DONE":
            raise _framing("the aws-chunked body ended early")


async def decode(body: AsyncIterator[bytes], decoder: ChunkedDecoder) -> AsyncIterator[bytes]:
    async for data in body:
        for piece in decoder.feed(data):
            yield piece
    decoder.finish()
