"""Content negotiation and on-the-fly compression (RFC 9110 12.5.3 Accept-Encoding, 8.4 Content-Encoding).

Pure decisions (which coding, whether a response may be compressed, the Vary and ETag that go with it)
plus a streaming Compressor whose memory is bounded by the coding's window, not by the body.
"""

from __future__ import annotations

import re
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

import brotli  # type: ignore[import-untyped]
import zstandard

from strato.edge import directives
from strato.http.fields import TOKEN, split_list

MIN_COMPRESS_SIZE = 1024
"""Smaller bodies are sent as they are: the coding's framing and CPU outweigh the saving."""

GZIP_LEVEL = 6
BROTLI_QUALITY = 5
"""On-the-fly brotli: quality 11 costs many times the CPU for a few percent (ngx_brotli defaults to 6)."""
BROTLI_LGWIN = 19
"""A 512 KiB window (nginx brotli_window): at the default 4 MiB brotli holds ~2 MiB before its first byte out."""
ZSTD_LEVEL = 3

SUPPORTED_ENCODINGS: tuple[str, ...] = ("br", "zstd", "gzip")
"""Every coding a Compressor can produce here, in order of preference."""
COMPRESSED_STATUSES = frozenset({200, 403, 404})
"""The statuses whose bodies are compressed: a representation, or a site's error page (nginx's gzip filter)."""

_ALIASES = {"x-gzip": "gzip", "x-compress": "compress"}  # RFC 9110 8.4.1.1 / 8.4.1.3
_QVALUE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)\Z")


def parse_accept_encoding(value: str | None) -> dict[str, float]:
    """RFC 9110 12.5.3: each coding named in Accept-Encoding with its q-value (0 = not acceptable).

    Names are lowercased and x-gzip / x-compress folded into gzip / compress (8.4.1). An item
    whose q is malformed or out of range is ignored; parameters other than q are ignored. A coding
    named twice keeps its lowest q, the conservative reading. An absent or empty header gives {}.
    """
    prefs: dict[str, float] = {}
    if not value:
        return prefs
    for item in split_list(value):
        name, *params = (part.strip() for part in item.split(";"))
        coding = _ALIASES.get(name.lower(), name.lower())
        if not TOKEN.fullmatch(coding):
            continue
        q: float | None = 1.0
        for param in params:
            key, sep, raw = param.partition("=")
            if key.strip().lower() != "q":
                continue
            raw = raw.strip()
            q = float(raw) if sep and _QVALUE.match(raw) else None
        if q is None:
            continue
        prefs[coding] = min(q, prefs.get(coding, q))
    return prefs


def choose_encoding(accept_encoding: str | None, available: Sequence[str] = SUPPORTED_ENCODINGS) -> str | None:
    """RFC 9110 12.5.3: the available coding the client prefers (highest q, ties in `available` order).

    None means identity: no Accept-Encoding at all (the client may accept anything, but nothing
    forces a coding on it), an empty one (12.5.3: "does not want any content coding"), nothing
    available acceptable, or an explicitly listed identity with a strictly higher q than every
    available coding. Codings not named take the "*" q when there is one, else are not acceptable.
    """
    prefs = parse_accept_encoding(accept_encoding)
    wildcard = prefs.get("*", 0.0)
    best: str | None = None
    best_q = 0.0
    for coding in available:
        q = prefs.get(coding.lower(), wildcard)
        if q > best_q:
            best, best_q = coding, q
    if best is not None and prefs.get("identity", 0.0) > best_q:
        return None
    return best


_COMPRESSIBLE_TYPES = frozenset({
    "application/json", "application/javascript", "application/x-javascript", "application/ecmascript",
    "application/xml", "application/xhtml+xml", "application/rss+xml", "application/atom+xml",
    "application/wasm", "application/x-yaml", "application/yaml", "application/toml",
    "application/graphql", "application/x-ndjson", "application/vnd.ms-fontobject",
    "application/x-font-ttf", "application/x-font-opentype", "application/x-font-truetype",
    "font/ttf", "font/otf", "font/eot", "image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon",
    "image/bmp",
})
# text/event-stream is text, but compressing it buffers events that must reach the client at once.
_NEVER_COMPRESS = frozenset({"text/event-stream"})


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def is_compressible_type(content_type: str | None) -> bool:
    """Whether a media type (RFC 9110 8.3.1) is worth compressing: text, JSON, XML, JS, SVG, WASM, fonts."""
    if not content_type:
        return False
    media = _media_type(content_type)
    if media in _NEVER_COMPRESS:
        return False
    return (media.startswith("text/") or media in _COMPRESSIBLE_TYPES
            or media.endswith("+json") or media.endswith("+xml"))


def has_no_transform(cache_control: str | None) -> bool:
    """RFC 9111 5.2.2.6: is the no-transform directive in this Cache-Control value?"""
    return directives.parse(cache_control).no_transform


def is_compressible(content_type: str | None, content_encoding: str | None, size: int | None,
                    cache_control: str | None) -> bool:
    """RFC 9110 8.4 / RFC 9111 5.2.2.6: may the edge compress this response?

    Only a compressible type, not already content-coded (identity aside), without no-transform,
    and of at least MIN_COMPRESS_SIZE bytes; an unknown size (a streamed body) does not prevent it.
    """
    if content_encoding and any(c.lower() != "identity" for c in split_list(content_encoding)):
        return False
    if has_no_transform(cache_control):
        return False
    if size is not None and size < MIN_COMPRESS_SIZE:
        return False
    return is_compressible_type(content_type)


class _Engine(Protocol):
    def compress(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...


class _Brotli:
    def __init__(self, quality: int) -> None:
        self._inner = brotli.Compressor(quality=quality, lgwin=BROTLI_LGWIN)

    def compress(self, data: bytes) -> bytes:
        out: bytes = self._inner.process(data)
        return out

    def flush(self) -> bytes:
        out: bytes = self._inner.finish()
        return out


class UnsupportedEncoding(ValueError):
    """A Compressor was asked for a coding this build cannot produce."""


class Compressor:
    """One streaming content coding (RFC 9110 8.4.1): feed chunks to compress(), then flush() once.

    States: open -> (flush) -> finished; compress() or flush() after finishing raise RuntimeError.
    Memory stays bounded by the coding's window (gzip 32 KiB, brotli 512 KiB,
    zstd a few MiB at level 3) whatever the body size; the output of each call may be empty.
    """

    def __init__(self, encoding: str, level: int | None = None) -> None:
        self.encoding = encoding.lower()
        self._finished = False
        self._engine: _Engine
        if self.encoding == "gzip":
            # wbits 16 + 15: the gzip wrapper (RFC 1952) around a 32 KiB deflate window.
            self._engine = zlib.compressobj(GZIP_LEVEL if level is None else level, zlib.DEFLATED, 31)
        elif self.encoding == "br":
            self._engine = _Brotli(BROTLI_QUALITY if level is None else level)
        elif self.encoding == "zstd":
            self._engine = zstandard.ZstdCompressor(level=ZSTD_LEVEL if level is None else level).compressobj()
        else:
            raise UnsupportedEncoding(f"cannot produce content coding {encoding!r}")

    def compress(self, chunk: bytes) -> bytes:
        """The coded bytes ready so far; may be empty while the coder buffers."""
        if self._finished:
            raise RuntimeError("compressor already flushed")
        return self._engine.compress(chunk) if chunk else b""

    def flush(self) -> bytes:
        """The rest of the coded stream, trailer included; the compressor is finished afterwards."""
        if self._finished:
            raise RuntimeError("compressor already flushed")
        self._finished = True
        return self._engine.flush()


def compress_whole(body: bytes, encoding: str) -> bytes:
    """A whole body in one content coding (RFC 9110 8.4.1), as one stream."""
    compressor = Compressor(encoding)
    return compressor.compress(body) + compressor.flush()


class EncodedCopies:
    """Compressed copies of cached bodies by (entry name, coding), so that a hit asking for a
    coding already produced is answered without compressing again.

    Least recently used first out, bounded in total bytes; a copy larger than the whole bound is
    not kept. Copies are bytes of an immutable body, so they stay valid until their entry goes
    (drop), which its store tells this map.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self._copies: OrderedDict[tuple[str, str], bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._copies)

    def get(self, name: str, encoding: str) -> bytes | None:
        copy = self._copies.get((name, encoding))
        if copy is not None:
            self._copies.move_to_end((name, encoding))
        return copy

    def put(self, name: str, encoding: str, copy: bytes) -> None:
        if len(copy) > self.capacity:
            return
        self._forget((name, encoding))
        self._copies[(name, encoding)] = copy
        self.used += len(copy)
        while self.used > self.capacity:
            _, dropped = self._copies.popitem(last=False)
            self.used -= len(dropped)

    def drop(self, name: str) -> None:
        """Every coding of one entry's body."""
        for encoding in SUPPORTED_ENCODINGS:
            self._forget((name, encoding))

    def _forget(self, key: tuple[str, str]) -> None:
        copy = self._copies.pop(key, None)
        if copy is not None:
            self.used -= len(copy)


def add_vary(headers: dict[str, str], field: str = "accept-encoding") -> None:
    """RFC 9110 12.5.5: add `field` to Vary once (case-insensitively); a "Vary: *" is left alone."""
    key = next((k for k in headers if k.lower() == "vary"), None)
    if key is None:
        headers["vary"] = field
        return
    members = split_list(headers[key])
    lowered = {m.lower() for m in members}
    if "*" in lowered or field.lower() in lowered:
        return
    headers[key] = ", ".join([*members, field])


def strong_to_weak_etag(etag: str) -> str:
    """RFC 9110 8.8.3 / 8.8.1: the validator of an encoded copy, weakened as nginx does (W/"...").

    A content-coded response is a different representation, so its strong ETag must not be
    reused (8.8.3.3). Weakening keeps If-None-Match revalidation working across codings (weak
    comparison) while If-Range and If-Match, which need strong validators, stop matching it, so a
    range is never served from bytes the client cannot line up. Already weak tags are unchanged;
    an unquoted (malformed) tag is quoted.
    """
    etag = etag.strip()
    if etag.startswith("W/"):
        return etag
    if not (len(etag) >= 2 and etag.startswith('"') and etag.endswith('"')):
        etag = f'"{etag}"'
    return f"W/{etag}"
