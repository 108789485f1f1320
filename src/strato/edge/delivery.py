"""Answering from a stored (or arriving) representation: the client's conditionals,
ranges and compression (RFC 9110 sections 13, 14 and 8.4), whichever the response is."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol

from strato.edge import compression, multirange
from strato.edge.response_fields import Fields, add_fields
from strato.edge.set_cookie import field_items
from strato.http.conditionals import Outcome, evaluate, format_http_date, parse_http_date
from strato.http.request import Request
from strato.http.responses import send_body, send_stream
from strato.http.types import Send

VIA = "1.1 strato"
# The ASGI scope key of a callable (set by edge/protocol.py) that cuts an answer's connection:
# an answer whose body fails once begun ends there, its client seeing it cut short.
ABORT = "strato.edge.abort"
# A body read by byte range: (start, end or None for "to the end") -> chunks.
BodyRange = Callable[[int, int | None], AsyncIterator[bytes]]
# A piece of an answer's body: literal bytes, or [start, end) of the representation (None: to its end).
Piece = bytes | tuple[int, int | None]
# RFC 9110 15.4.5, plus this cache's own Age, Via and Cache-Status.
NOT_MODIFIED_FIELDS = frozenset({
    "cache-control", "content-location", "date", "etag", "expires", "last-modified", "vary", "age", "via",
    "cache-status",
})
# RFC 9110 13.1.3, 13.1.4: the preconditions on a modification date.
_DATE_CONDITIONS = frozenset({"if-modified-since", "if-unmodified-since"})


@dataclass(slots=True)
class Answer:
    """A response decided before any of it is sent: status, header fields (content-length
    included unless the body is compressed on the way), and the body as literal bytes and
    (start, end) ranges of the representation; `body` None: no body (HEAD, 304, 416)."""

    status: int
    headers: dict[str, str]
    body: list[Piece] | None
    encoding: str | None = None


class Copies(Protocol):
    """Where one stored body's compressed copies are found and kept, so that an answer in a
    coding already produced does not compress again; bodies over `limit` bytes stream instead."""

    limit: ClassVar[int]

    def find(self, encoding: str) -> bytes | None: ...
    def keep(self, encoding: str, copy: bytes) -> None: ...


def plan_answer(
    request_headers: Mapping[str, str], method: str, status: int, headers: dict[str, str], size: int | None,
    compress: tuple[str, ...] = compression.SUPPORTED_ENCODINGS,
) -> Answer:
    """Conditionals, ranges and compression in one of the codings `compress` holds (none: no
    compression) over a stored (or arriving) representation; pure. `headers` (the representation's
    outgoing fields) become the answer's."""
    etag = headers.get("etag")
    last_modified = headers.get("last-modified")
    head = method == "HEAD"
    encoding = negotiate(request_headers, status, headers, size, compress)
    if status == 200 and (etag or last_modified):
        modified = parse_http_date(last_modified) if last_modified else None
        if modified is None and not _DATE_CONDITIONS.isdisjoint(request_headers):
            # RFC 9110 13.1.3, 13.1.4: ignored where the representation has no modification date
            request_headers = {k: v for k, v in request_headers.items() if k not in _DATE_CONDITIONS}
        if_match = request_headers.get("if-match")
        if etag and etag.startswith("W/") and if_match is not None and if_match.strip() != "*":
            return plain_answer(412, "precondition failed", method)  # RFC 9110 13.1.1: compared strongly
        bare = etag.removeprefix("W/").strip('"') if etag else ""
        outcome = evaluate(request_headers, bare, modified if modified is not None else 0.0, safe=True)
        if outcome is Outcome.NOT_MODIFIED:
            fields = {k: v for k, v in headers.items() if k in NOT_MODIFIED_FIELDS}
            if encoding is not None and etag:  # RFC 9110 15.4.5: the ETag the (compressed) 200 would carry
                fields["etag"] = compression.strong_to_weak_etag(etag)
            return Answer(304, fields, None)
        if outcome is Outcome.PRECONDITION_FAILED:
            return plain_answer(412, "precondition failed", method)
    range_header = request_headers.get("range")
    if status == 200 and size is not None and range_header is not None:
        plan = multirange.plan_ranges(
            range_header, request_headers.get("if-range"), size=size, content_type=headers.get("content-type"),
            etag=etag, last_modified=last_modified, date=headers.get("date"),
        )
        if plan.status != 200:
            headers.pop("content-length", None)
            headers.update(plan.headers)
            headers["content-length"] = str(plan.content_length)
            return Answer(plan.status, headers, None if head or not plan.parts else list(plan.parts))
    if encoding is not None:
        encoded_fields(headers, encoding)
        return Answer(status, headers, None if head else [(0, size)], encoding)
    if status == 204:  # RFC 9110 8.6: no content, and no Content-Length
        headers.pop("content-length", None)
        return Answer(status, headers, None)
    if size is not None:
        headers["content-length"] = str(size)
    return Answer(status, headers, None if head else [(0, size)] if size is not None else [(0, None)])


def negotiate(
    request_headers: Mapping[str, str], status: int, headers: dict[str, str], size: int | None,
    compress: tuple[str, ...],
) -> str | None:
    """RFC 9110 12.5.3: the coding of `compress` an answer of `status` with these fields (and
    `size`, None when not known) goes in for the request, None for none; its Vary made to name
    Accept-Encoding when that chooses it (12.5.5: compressed or not). A body of unknown size (one
    stored as it streams in, without a length) goes as it is: CloudFront compresses only a declared
    length (ServingCompressedFiles.html), and a feed is never held back by a compressor."""
    if not compress or status not in compression.COMPRESSED_STATUSES or not compression.is_compressible(
        headers.get("content-type"), headers.get("content-encoding"), size, headers.get("cache-control")
    ):
        return None
    compression.add_vary(headers)
    if size is None:
        return None
    return compression.choose_encoding(request_headers.get("accept-encoding"), compress)


def encoded_fields(headers: dict[str, str], encoding: str) -> None:
    """An answer's fields made those of its body in `encoding` (RFC 9110 8.4): no length known
    ahead, no ranges (they are of the identity body, not of this stream, as nginx), and a weak
    ETag (8.8.3.3)."""
    headers["content-encoding"] = encoding
    headers.pop("content-length", None)
    headers.pop("accept-ranges", None)
    etag = headers.get("etag")
    if etag:
        headers["etag"] = compression.strong_to_weak_etag(etag)


def with_policy_fields(answer: Answer, added: Fields) -> Answer:
    """A fast path's answer planned from fields that hold a response headers policy's `added`
    ones: a 304 or 412 keeps few of them, so they are added to it as the ASGI app adds them to
    whatever answer goes (edge/viewer.py)."""
    if added and answer.status in (304, 412):
        add_fields(answer.headers, added)
    return answer


def plain_answer(status: int, message: str, method: str) -> Answer:
    """A short answer of the edge's own (an error, a limit)."""
    body = f"{message}\n".encode()
    headers = {"content-type": "text/plain; charset=utf-8", "via": VIA, "content-length": str(len(body)),
               "date": format_http_date(time.time())}
    return Answer(status, headers, None if method == "HEAD" else [body])


def too_many_requests(wait: float) -> Answer:
    """RFC 6585 4: a rate-limited request, told when to come back."""
    body = b"Too Many Requests\n"
    headers = {"retry-after": str(max(1, math.ceil(wait))), "content-type": "text/plain",
               "content-length": str(len(body)), "date": format_http_date(time.time())}
    return Answer(429, headers, [body])


async def deliver(
    request: Request, status: int, headers: dict[str, str], size: int | None, body: BodyRange, send: Send,
    whole: bytes | None = None, copies: Copies | None = None, *,
    compress: tuple[str, ...] = compression.SUPPORTED_ENCODINGS,
) -> bool:
    """Conditionals, ranges and compression over a stored (or arriving) representation;
    `whole`: the entire representation, when it is in memory (answered in one body message);
    `copies`: its compressed copies, when it is complete (a compressed answer then comes from
    one, or makes and keeps one). True when this answer compressed the body."""
    answer = plan_answer(request.headers, request.method, status, headers, size, compress)
    if whole is None and _compressed_whole(answer, copies, size):
        whole = b"".join([chunk async for chunk in body(0, size)])
    answer, compressed = in_memory(answer, whole, copies)
    await send_answer(send, answer, body)
    return compressed


def in_memory(answer: Answer, whole: bytes | None, copies: Copies | None) -> tuple[Answer, bool]:
    """A planned answer with its body as bytes where it can be: ranges cut from `whole`, a
    compressed body from a kept copy, or compressed now from `whole` (and kept, when `copies`
    allows). True when the answer compresses the body (now, or on the way when `whole` is None)."""
    if answer.encoding is None:
        if whole is None or answer.body is None:
            return answer, False
        return Answer(answer.status, answer.headers, [*_literal(answer.body, whole)]), False
    copy = copies.find(answer.encoding) if copies is not None else None
    if answer.body is None:  # a HEAD: the length of its GET's body once that is made (RFC 9110 8.6)
        if copy is not None:
            answer.headers["content-length"] = str(len(copy))
        return answer, False
    compressed = copy is None
    if copy is None:
        if whole is None:
            return answer, True
        copy = compression.compress_whole(whole, answer.encoding)
        if copies is not None and len(whole) <= copies.limit:
            copies.keep(answer.encoding, copy)
    answer.headers["content-length"] = str(len(copy))
    return Answer(answer.status, answer.headers, [copy]), compressed


def _compressed_whole(answer: Answer, copies: Copies | None, size: int | None) -> bool:
    """A body small enough to keep compressed, with no copy in this coding yet: read whole."""
    return (answer.encoding is not None and answer.body is not None and copies is not None and size is not None
            and size <= copies.limit and copies.find(answer.encoding) is None)


async def send_answer(send: Send, answer: Answer, body: BodyRange | None = None) -> None:
    """Send a planned answer through ASGI; `body` reads the representation's ranges."""
    if answer.body is None:
        await send_bodiless(send, answer.status, answer.headers)
        return
    if answer.encoding is None and all(isinstance(part, bytes) for part in answer.body):
        await send_body(send, answer.status, field_items(answer.headers), b"".join(_literal(answer.body, None)))
        return
    assert body is not None, "an answer with ranges of the representation needs its body"
    chunks = _parts(answer.body, body)
    if answer.encoding is not None:
        chunks = compressed(chunks, answer.encoding)
    await send_stream(send, answer.status, field_items(answer.headers), chunks)


async def send_bodiless(send: Send, status: int, headers: dict[str, str]) -> None:
    """An answer without a body (to a HEAD, a 304, a 204, a 416) with the Content-Length it has, if
    any: none is made up for it (RFC 9110 8.6: a 204 has none, a 304 none but the 200's, and a
    HEAD the GET's, or none while a body still arriving has no known length)."""
    await send_stream(send, status, field_items(headers), _no_chunks())


async def _no_chunks() -> AsyncIterator[bytes]:
    none: tuple[bytes, ...] = ()
    for chunk in none:
        yield chunk


async def respond(
    send: Send, status: int, headers: dict[str, str], chunks: AsyncIterator[bytes] | None, head: bool,
) -> None:
    if chunks is None:
        await send_body(send, status, field_items(headers), head=head)
    else:
        await send_stream(send, status, field_items(headers), chunks)


async def plain(send: Send, status: int, message: str, method: str) -> None:
    """A short answer of the edge's own (an error, a limit)."""
    await send_answer(send, plain_answer(status, message, method))


def _literal(parts: list[Piece], whole: bytes | None) -> list[bytes]:
    """The answer's body pieces as bytes: ranges are cut from `whole`."""
    out: list[bytes] = []
    for part in parts:
        if isinstance(part, bytes):
            out.append(part)
        else:
            assert whole is not None
            start, end = part
            out.append(whole if start == 0 and (end is None or end >= len(whole)) else whole[start:end])
    return out


async def _parts(parts: list[Piece], body: BodyRange) -> AsyncIterator[bytes]:
    for part in parts:
        if isinstance(part, bytes):
            yield part
        else:
            async for chunk in body(*part):
                yield chunk


async def compressed(chunks: AsyncIterator[bytes], encoding: str) -> AsyncIterator[bytes]:
    """A body's chunks in a content coding, as they come."""
    compressor = compression.Compressor(encoding)
    async for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    tail = compressor.flush()
    if tail:
        yield tail
