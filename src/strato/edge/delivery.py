"""Answering from a stored (or arriving) representation: the client's conditionals,
ranges and compression (RFC 9110 sections 13, 14 and 8.4), whichever the response is."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from strato.edge import compression, multirange
from strato.http.conditionals import Outcome, evaluate, parse_http_date
from strato.http.request import Request
from strato.http.responses import send_body, send_stream
from strato.http.types import Send

VIA = "1.1 strato"
# A body read by byte range: (start, end or None for "to the end") -> chunks.
BodyRange = Callable[[int, int | None], AsyncIterator[bytes]]
# RFC 9110 15.4.5, plus this cache's own Age, Via and Cache-Status.
NOT_MODIFIED_FIELDS = frozenset({
    "cache-control", "content-location", "date", "etag", "expires", "last-modified", "vary", "age", "via",
    "cache-status",
})


async def deliver(
    request: Request, status: int, headers: dict[str, str], size: int | None, body: BodyRange, send: Send,
) -> None:
    """Conditionals, ranges and compression over a stored (or arriving) representation."""
    etag = headers.get("etag")
    last_modified = headers.get("last-modified")
    if status == 200 and (etag or last_modified):
        modified = parse_http_date(last_modified) if last_modified else None
        bare = etag.removeprefix("W/").strip('"') if etag else ""
        outcome = evaluate(request.headers, bare, modified if modified is not None else 0.0, safe=True)
        if outcome is Outcome.NOT_MODIFIED:
            kept = {k: v for k, v in headers.items() if k in NOT_MODIFIED_FIELDS}
            await send_body(send, 304, kept.items(), head=True)
            return
        if outcome is Outcome.PRECONDITION_FAILED:
            await plain(send, 412, "precondition failed", request.method)
            return
    head = request.method == "HEAD"
    range_header = request.headers.get("range")
    if status == 200 and size is not None and range_header is not None:
        plan = multirange.plan_ranges(
            range_header, request.headers.get("if-range"), size=size, content_type=headers.get("content-type"),
            etag=etag, last_modified=last_modified,
        )
        if plan.status != 200:
            headers.pop("content-length", None)
            headers.update(plan.headers)
            headers["content-length"] = str(plan.content_length)
            await respond(send, plan.status, headers, None if head else _plan_body(plan, body), head)
            return
    encoding = None
    if status == 200 and not head and compression.is_compressible(
        headers.get("content-type"), headers.get("content-encoding"), size, headers.get("cache-control")
    ):
        encoding = compression.choose_encoding(request.headers.get("accept-encoding"))
    if encoding is not None:
        compression.add_vary(headers)
        headers["content-encoding"] = encoding
        headers.pop("content-length", None)
        if etag:
            headers["etag"] = compression.strong_to_weak_etag(etag)
        await respond(send, status, headers, _compressed(body(0, size), encoding), head)
        return
    if size is not None:
        headers["content-length"] = str(size)
    await respond(send, status, headers, None if head else body(0, size), head)

async def respond(
    send: Send, status: int, headers: dict[str, str], chunks: AsyncIterator[bytes] | None, head: bool,
) -> None:
    if chunks is None:
        await send_body(send, status, headers.items(), head=head)
    else:
        await send_stream(send, status, headers.items(), chunks)


async def plain(send: Send, status: int, message: str, method: str) -> None:
    """A short answer of the edge's own (an error, a limit)."""
    await send_body(send, status, [("content-type", "text/plain; charset=utf-8"), ("via", VIA)],
                    f"{message}\n".encode(), head=method == "HEAD")


async def _plan_body(plan: multirange.RangePlan, body: BodyRange) -> AsyncIterator[bytes]:
    for part in plan.parts:
        if isinstance(part, bytes):
            yield part
        else:
            start, end = part
            async for chunk in body(start, end):
                yield chunk


async def _compressed(chunks: AsyncIterator[bytes], encoding: str) -> AsyncIterator[bytes]:
    compressor = compression.Compressor(encoding)
    async for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    tail = compressor.flush()
    if tail:
        yield tail
