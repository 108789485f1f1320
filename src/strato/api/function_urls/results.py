"""A function's result as the URL's HTTP response, pure. Source: the Lambda developer guide,
"Invoking Lambda function URLs", "Response payload format": a JSON object with `statusCode` is
a response (statusCode, headers, cookies as Set-Cookie, body, base64-decoded when
isBase64Encoded); any other result is a 200 `application/json` whose body is the result's JSON,
but a string, which is the body itself (as AWS answered in LocalStack's recorded tests).
Format 2.0 has no multiValueHeaders: they are ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from strato import jsontext
from strato.digits import is_digits
from strato.http.fields import FIELD_VALUE, HOP_BY_HOP, TOKEN

JSON = "application/json"
# The connection's own headers and the length, and the fields the URL sets once itself (Date,
# the request id): the URL frames and dates its response, whatever the function says.
_FRAMING = HOP_BY_HOP | {"content-length", "date", "x-amzn-requestid"}
# Statuses whose response has no body (RFC 9112 6.3): a body the function gives them is dropped,
# or the connection's next response would begin with it.
NO_BODY = (204, 304)


class InvalidResponse(Exception):
    """A result shaped as a response but not a valid one: the URL answers 502."""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _text(value: Any) -> str:
    """A header value as the function gave it (numbers and booleans as JSON writes them)."""
    return value if isinstance(value, str) else json.dumps(value)


def structured(result: dict[str, Any]) -> HttpResponse:
    """A result shaped as a response (`statusCode`, `headers`, `cookies`, `body`), or a streamed
    answer's prelude (no body)."""
    status = result["statusCode"]
    if isinstance(status, str) and is_digits(status):
        status = int(status)
    # A 1xx is interim, never the final response the client waits for.
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
        raise InvalidResponse(f"statusCode {status!r} is not the status of a final HTTP response")
    given = result.get("headers") or {}
    cookies = result.get("cookies") or []
    body = result.get("body")
    if not isinstance(given, dict) or not isinstance(cookies, list) or not (body is None or isinstance(body, str)):
        raise InvalidResponse("headers must be an object, cookies a list and body a string")
    headers = [(str(name), _text(value)) for name, value in given.items()
               if value is not None and str(name).lower() not in _FRAMING]
    for name, value in headers:
        if not TOKEN.fullmatch(name) or not FIELD_VALUE.fullmatch(value):
            raise InvalidResponse(f"header {name!r} is not a valid HTTP header")
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", JSON))
    headers += [("set-cookie", _text(cookie)) for cookie in cookies]
    if any(not FIELD_VALUE.fullmatch(value) for name, value in headers if name == "set-cookie"):
        raise InvalidResponse("a cookie is not a valid header value")
    if body is None or status in NO_BODY:
        return HttpResponse(status, headers, b"")
    if result.get("isBase64Encoded") is True:
        try:
            return HttpResponse(status, headers, base64.b64decode(body, validate=True))
        except binascii.Error:
            raise InvalidResponse("body is not base64") from None
    return HttpResponse(status, headers, _utf8(body))


def _utf8(text: str) -> bytes:
    """A body as UTF-8; a lone surrogate (JSON's "\\ud800") has none: an invalid response."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        raise InvalidResponse("the body is not Unicode text") from None


def http_response(payload: bytes) -> HttpResponse:
    """The response for a function's result (its JSON payload, as Invoke answers it)."""
    try:
        result = jsontext.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return HttpResponse(200, [("content-type", JSON)], payload)  # a custom runtime's raw answer
    if isinstance(result, dict) and "statusCode" in result:
        return structured(result)
    if isinstance(result, str):
        return HttpResponse(200, [("content-type", JSON)], _utf8(result))
    return HttpResponse(200, [("content-type", JSON)], payload)
