"""Requests as they reach strato: what botocore signs, turned into the ASGI scope uvicorn
would build from the bytes on the wire, then parsed by strato's own Request."""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from strato.auth import sigv4
from strato.http.request import Request
from strato.http.types import Message

# The example credentials of the Amazon S3 API reference's signature examples.
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
ENDPOINT = "http://127.0.0.1:9000"
CREDENTIALS = Credentials(ACCESS_KEY, SECRET_KEY)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _text(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


def wire_request(method: str, url: str, headers: Iterable[tuple[str, str | bytes]] = ()) -> Request:
    """The Request strato builds for `url` sent as is, with a Host header as HTTP clients add."""
    parts = urlsplit(url)
    raw_headers = [(name.lower().encode("latin-1"), _text(value)) for name, value in headers]
    if not any(name == b"host" for name, _ in raw_headers):
        raw_headers.append((b"host", parts.netloc.encode("ascii")))
    scope = {
        "type": "http",
        "method": method,
        "path": unquote(parts.path),
        "raw_path": parts.path.encode("ascii"),
        "query_string": parts.query.encode("ascii"),
        "headers": raw_headers,
    }
    return Request.from_scope(scope, _no_body)


def from_botocore(request: AWSRequest) -> Request:
    prepared = request.prepare()
    return wire_request(prepared.method, prepared.url, list(prepared.headers.items()))


def signed_at(request: Request) -> float:
    """The instant the client put in X-Amz-Date (header or presigned query)."""
    stamp = request.query.get("X-Amz-Date") or request.headers["x-amz-date"]
    return float(calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ")))


def verify_v4(request: Request, secret: str = SECRET_KEY, now: float | None = None) -> sigv4.Verified:
    """What strato's authentication does with a SigV4 request; `now` defaults to its signing time."""
    header = request.headers.get("authorization")
    auth = sigv4.parse_header(header) if header is not None else sigv4.parse_query(request.query)
    assert auth is not None
    return sigv4.verify(
        auth,
        secret,
        method=request.method,
        raw_path=request.raw_path,
        raw_query=request.raw_query,
        headers=request.header_list,
        header_map=request.headers,
        query=request.query,
        now=signed_at(request) if now is None else now,
    )


class Captured(Exception):
    """Raised from botocore's before-send hook: the request was built, signed and kept."""


@dataclass
class Sent:
    method: str
    url: str
    headers: list[tuple[str, str | bytes]]
    body: bytes

    def request(self) -> Request:
        return wire_request(self.method, self.url, self.headers)


def client(endpoint: str = ENDPOINT, **config: Any) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=Config(**config) if config else None,
    )


def sent_by(s3: Any, call: Callable[[Any], object]) -> Sent:
    """The request boto3 would send for `call(s3)`, exactly as it would go on the wire."""
    kept: list[Sent] = []

    def keep(request: Any, **_: Any) -> None:
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        headers: Mapping[str, str | bytes] = request.headers
        kept.append(Sent(request.method, request.url, list(headers.items()), body or b""))
        raise Captured

    s3.meta.events.register("before-send", keep)
    try:
        call(s3)
    except Captured:
        pass
    finally:
        s3.meta.events.unregister("before-send", keep)
    assert len(kept) == 1
    return kept[0]
