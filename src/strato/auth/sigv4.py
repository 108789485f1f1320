"""AWS Signature Version 4, pure: parsing, canonical requests, signing keys, verification.

Source: AWS "Signature Version 4 signing process" and "Authenticating Requests (AWS
Signature Version 4)" in the Amazon S3 API reference.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote, unquote_to_bytes

from strato.auth.errors import AuthError, expired, malformed, mismatch, query_error

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING_MODES = (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER)
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_SKEW = 15 * 60
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600
_AMZ_DATE = re.compile(r"^[0-9]{8}T[0-9]{6}Z$")
_PATH_SAFE = re.compile(r"[A-Za-z0-9\-_.~/]*")
_QUERY_SAFE = re.compile(r"[A-Za-z0-9\-_.~]*")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_NAMED_PAYLOADS = frozenset({UNSIGNED_PAYLOAD, *STREAMING_MODES})  # x-amz-content-sha256 values that are not hashes


@dataclass(frozen=True, slots=True)
class Scope:
    access_key: str
    date: str
    region: str
    service: str

    @property
    def text(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@dataclass(frozen=True, slots=True)
class Authorization:
    """What a SigV4 request claims: from the Authorization header or presigned query."""

    scope: Scope
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    presigned: bool = False
    expires: int = 0


@lru_cache(maxsize=256)  # a client's credential scope is the same all day
def parse_scope(credential: str) -> Scope:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise malformed("the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"")
    return Scope(*parts[:4])


def parse_header(value: str) -> Authorization | None:
    """The Authorization header of a SigV4 request; None when it is another scheme."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        return None
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, eq, field_value = item.strip().partition("=")
        if not eq:
            raise malformed("the authorization header is malformed")
        fields[name] = field_value
    try:
        scope = parse_scope(fields["Credential"])
        signed = tuple(fields["SignedHeaders"].split(";"))
        signature = fields["Signature"]
    except KeyError as exc:
        raise malformed(f"the authorization header is missing {exc.args[0]}") from None
    return Authorization(scope, signed, signature, amz_date="")


def parse_query(query: dict[str, str]) -> Authorization:
    """A presigned URL's X-Amz-* parameters."""
    if query.get("X-Amz-Algorithm") != ALGORITHM:
        raise query_error("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
    try:
        credential = query["X-Amz-Credential"]
        amz_date = query["X-Amz-Date"]
        signed = tuple(query["X-Amz-SignedHeaders"].split(";"))
        signature = query["X-Amz-Signature"]
        expires_text = query["X-Amz-Expires"]
    except KeyError as exc:
        raise query_error(f"Query-string authentication requires {exc.args[0]}") from None
    if not (expires_text.isascii() and expires_text.isdigit()):
        if expires_text.startswith("-") and expires_text[1:].isascii() and expires_text[1:].isdigit():
            raise query_error("X-Amz-Expires must be non-negative")
        raise query_error("X-Amz-Expires should be a number")
    expires = int(expires_text)
    if expires > MAX_PRESIGN_EXPIRES:
        raise query_error("X-Amz-Expires must be less than a week (in seconds) that is 604800")
    return Authorization(parse_scope(credential), signed, signature, amz_date, True, expires)


@lru_cache(maxsize=256)  # a date stands for a second: requests share it (an invalid one raises, uncached)
def parse_amz_date(value: str) -> float:
    invalid = AuthError("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
    if not _AMZ_DATE.match(value):
        raise invalid
    year, month, day = int(value[0:4]), int(value[4:6]), int(value[6:8])
    hour, minute, second = int(value[9:11]), int(value[11:13]), int(value[13:15])
    # The right shape but no such day or time (month 13, 31 February) is invalid too.
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        raise invalid
    if hour > 23 or minute > 59 or second > 60:
        raise invalid
    return float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))


def uri_encode(text: str, keep_slash: bool) -> str:
    """SigV4 URI encoding: every byte but A-Z a-z 0-9 - _ . ~ (and '/' in paths) as %XX."""
    if (_PATH_SAFE if keep_slash else _QUERY_SAFE).fullmatch(text):
        return text
    return quote(text.encode("utf-8", "surrogateescape"), safe="/~" if keep_slash else "~")


def canonical_uri(raw_path: bytes) -> str:
    """S3 paths are encoded once and never normalised."""
    return uri_encode(unquote_to_bytes(raw_path).decode("utf-8", "surrogateescape"), keep_slash=True)


@lru_cache(maxsize=1024)  # these services' paths repeat (a function's invocations)
def canonical_uri_normalized(raw_path: bytes) -> str:
    """Every service but S3: the path as sent, with dot segments and empty ones (consecutive
    slashes) removed but a trailing slash kept, encoded once more (so '%3A' in a Lambda ARN is
    signed as '%253A'), as botocore's SigV4Auth and the JS SDK sign it."""
    segments: list[str] = []
    for segment in raw_path.decode("latin-1").split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    trailing = "/" if segments and raw_path.endswith(b"/") else ""
    return uri_encode("/" + "/".join(segments) + trailing, keep_slash=True)


def canonical_query(raw_query: bytes, exclude: str = "") -> str:
    pairs = []
    for item in raw_query.split(b"&"):
        if not item:
            continue
        name, _, value = item.partition(b"=")
        n = unquote_to_bytes(name).decode("utf-8", "surrogateescape")
        if n == exclude:
            continue
        v = unquote_to_bytes(value).decode("utf-8", "surrogateescape")
        pairs.append((uri_encode(n, False), uri_encode(v, False)))
    pairs.sort()
    return "&".join(f"{n}={v}" for n, v in pairs)


def header_text(value: str) -> str:
    """A header value as its sender wrote it. Values arrive decoded as Latin-1 (one char per
    byte) and signers sign text as UTF-8, so bytes that are UTF-8 are read as UTF-8; others
    stay Latin-1 text."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def canonical_headers(headers: Iterable[tuple[str, str]], signed: tuple[str, ...]) -> str:
    wanted = set(signed)
    values: dict[str, list[str]] = {}
    for name, value in headers:
        if name in wanted:
            values.setdefault(name, []).append(" ".join(header_text(value).split()))
    missing = [name for name in signed if name not in values]
    if missing:
        raise mismatch()
    return "".join(f"{name}:{','.join(values[name])}\n" for name in signed)


def canonical_request(
    method: str, raw_path: bytes, raw_query: bytes, headers: Iterable[tuple[str, str]],
    signed: tuple[str, ...], payload_hash: str, presigned: bool, s3_path: bool = True,
) -> str:
    return "\n".join(
        (
            method,
            canonical_uri(raw_path) if s3_path else canonical_uri_normalized(raw_path),
            canonical_query(raw_query, exclude="X-Amz-Signature" if presigned else ""),
            canonical_headers(headers, signed),
            ";".join(signed),
            payload_hash,
        )
    )


def string_to_sign(amz_date: str, scope: Scope, request: str) -> str:
    digest = hashlib.sha256(request.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope.text}\n{digest}"


@lru_cache(maxsize=1024)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.digest(f"AWS4{secret}".encode(), date.encode(), "sha256")
    for part in (region, service, "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


def sign(key: bytes, text: str) -> str:
    inner, outer = _hmac_pads(key)
    inner = inner.copy()
    inner.update(text.encode("utf-8", "surrogateescape"))
    outer = outer.copy()
    outer.update(inner.digest())
    return outer.hexdigest()


@lru_cache(maxsize=1024)
def _hmac_pads(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """HMAC-SHA256 (RFC 2104) of a signing key, begun: its inner and outer hashes after the
    padded key. Every request signed with a key continues copies of them, a fraction of what
    `hmac.digest` costs (OpenSSL looks its algorithm up again on each call)."""
    padded = (key if len(key) <= 64 else hashlib.sha256(key).digest()).ljust(64, b"\0")
    return (hashlib.sha256(bytes(byte ^ 0x36 for byte in padded)),
            hashlib.sha256(bytes(byte ^ 0x5C for byte in padded)))


def chunk_string_to_sign(amz_date: str, scope: Scope, previous: str, chunk_sha256: str) -> str:
    """Signed aws-chunked bodies: each chunk chains on the previous chunk's signature."""
    return f"{ALGORITHM}-PAYLOAD\n{amz_date}\n{scope.text}\n{previous}\n{EMPTY_SHA256}\n{chunk_sha256}"


def trailer_string_to_sign(amz_date: str, scope: Scope, previous: str, trailer_sha256: str) -> str:
    return f"{ALGORITHM}-TRAILER\n{amz_date}\n{scope.text}\n{previous}\n{trailer_sha256}"


@dataclass(frozen=True, slots=True)
class Verified:
    """A request whose signature checked out, with what body verification still needs."""

    scope: Scope
    amz_date: str
    signature: str
    payload_hash: str
    key: bytes


def verify(
    auth: Authorization, secret: str, *, method: str, raw_path: bytes, raw_query: bytes,
    headers: list[tuple[str, str]], header_map: dict[str, str], query: dict[str, str], now: float,
    body_sha256: str | None = None,
) -> Verified:
    """Check the signature and its time window; raises AuthError.

    S3 signs its path as-is and names the payload hash in x-amz-content-sha256. Other services
    (`body_sha256` given: the hex SHA-256 of the body, read before verifying) sign a
    normalized, re-encoded path and the body's hash, which the header may repeat."""
    if "host" not in auth.signed_headers:
        raise malformed("the host header must be signed") if not auth.presigned else query_error(
            "the host header must be signed"
        )
    amz_date = auth.amz_date or header_map.get("x-amz-date", "")
    if not amz_date:
        date_header = header_map.get("date")
        if date_header is None:
            raise AuthError("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
        try:
            parsed = parsedate_to_datetime(date_header)
            # An HTTP-date is always GMT; asctime dates carry no zone (RFC 9110 5.6.7).
            stamp = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
        except (TypeError, ValueError):
            raise AuthError("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header") from None
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(stamp))
    else:
        stamp = parse_amz_date(amz_date)
    if amz_date[:8] != auth.scope.date:
        raise malformed("the credential date does not match the request date") if not auth.presigned else (
            query_error("the credential date does not match X-Amz-Date")
        )
    if auth.presigned:
        if now < stamp - MAX_SKEW:
            raise AuthError("AccessDenied", "Request is not valid yet")
        if now > stamp + auth.expires or auth.expires == 0:  # a lifetime of 0 seconds has always run out
            raise expired(stamp + auth.expires, now, auth.expires)
        # S3 presigns an unsigned payload (or names its hash); every other service signs the
        # body's SHA-256 in a presigned request too, as botocore's SigV4QueryAuth does.
        payload_hash = query.get("X-Amz-Content-Sha256", UNSIGNED_PAYLOAD) if body_sha256 is None else body_sha256
    else:
        if abs(now - stamp) > MAX_SKEW:
            raise AuthError(
                "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."
            )
        payload_hash = header_map.get("x-amz-content-sha256", body_sha256 or "")
        if body_sha256 is not None and payload_hash not in (body_sha256, UNSIGNED_PAYLOAD):
            raise AuthError("InvalidSignatureException", "The x-amz-content-sha256 header does not match "
                            "the body.", 400)
        if not payload_hash:
            raise AuthError("InvalidRequest", "Missing required header for this request: x-amz-content-sha256", 400)
        if payload_hash != body_sha256 and payload_hash not in _NAMED_PAYLOADS and not _HEX64.match(payload_hash):
            raise AuthError("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                            "STREAMING-*, or a valid sha256 value.", 400)
    request = canonical_request(method, raw_path, raw_query, headers, auth.signed_headers, payload_hash,
                                auth.presigned, s3_path=body_sha256 is None)
    key = signing_key(secret, auth.scope.date, auth.scope.region, auth.scope.service)
    text = string_to_sign(amz_date, auth.scope, request)
    if not hmac.compare_digest(sign(key, text), auth.signature):
        raise mismatch(auth.scope.access_key, text, auth.signature, request)
    return Verified(auth.scope, amz_date, auth.signature, payload_hash, key)


def sign_headers(
    method: str, host: str, raw_path: bytes, raw_query: bytes, payload_hash: str, *, access_key: str, secret: str,
    region: str, service: str, now: float,
) -> dict[str, str]:
    """The fields that sign a request in its Authorization header (host, x-amz-content-sha256 and
    x-amz-date signed), as botocore's SigV4Auth signs them, that `verify` accepts."""
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    scope = Scope(access_key, amz_date[:8], region, service)
    fields = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
    signed = tuple(fields)
    request = canonical_request(method, raw_path, raw_query, fields.items(), signed, payload_hash, False,
                                service == "s3")
    signature = sign(signing_key(secret, scope.date, region, service), string_to_sign(amz_date, scope, request))
    del fields["host"]
    fields["authorization"] = (f"{ALGORITHM} Credential={access_key}/{scope.text}, SignedHeaders={';'.join(signed)}, "
                               f"Signature={signature}")
    return fields


def presign(
    method: str, host: str, raw_path: bytes, params: list[tuple[str, str]], *, access_key: str, secret: str,
    region: str, service: str, now: float, expires: int, s3_path: bool = True,
) -> str:
    """The query string of a presigned URL for a request without a body (host signed; for S3 the
    payload unsigned, for other services the empty body's hash) that `verify` accepts."""
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    scope = Scope(access_key, amz_date[:8], region, service)
    query = [*params, ("X-Amz-Algorithm", ALGORITHM), ("X-Amz-Credential", f"{access_key}/{scope.text}"),
             ("X-Amz-Date", amz_date), ("X-Amz-Expires", str(expires)), ("X-Amz-SignedHeaders", "host")]
    raw_query = "&".join(f"{uri_encode(name, False)}={uri_encode(value, False)}" for name, value in query)
    payload = UNSIGNED_PAYLOAD if s3_path else EMPTY_SHA256
    request = canonical_request(method, raw_path, raw_query.encode(), [("host", host)], ("host",), payload, True,
                                s3_path)
    signature = sign(signing_key(secret, scope.date, region, service), string_to_sign(amz_date, scope, request))
    return f"{raw_query}&X-Amz-Signature={signature}"
