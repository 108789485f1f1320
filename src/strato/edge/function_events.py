"""CloudFront Functions' event object and what the edge makes of a function's answer, as pure
functions over plain values (AWS CloudFront DeveloperGuide/functions-event-structure.html).

The viewer-request event holds the request as the viewer sent it: the method, the URI (the path
as sent), the query string, the headers (lower-case names; Cookie apart, as `cookies`), each
with `value` and, when repeated, `multiValue`. Its function returns the request (changed or not:
the URI, query string, headers and cookies it returns are what the cache key and the origin see;
the method and the read-only Host, Content-Length, Transfer-Encoding and Via cannot change) or a
response, which the edge answers at once. The viewer-response event holds the request and the
response (status, headers, Set-Cookie fields as `cookies`); its function's status and headers
reach the viewer, with the body unchanged."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from strato.http.fields import FIELD_VALUE, TOKEN

VERSION = "1.0"
VIEWER_REQUEST = "viewer-request"
VIEWER_RESPONSE = "viewer-response"
# The response's framing, which a viewer-response function cannot change (the body is not its).
FRAMING = frozenset({"content-length", "transfer-encoding", "content-encoding"})
# How a body's end is found, which is the edge's to say of the body it sends: a length of the
# function's own that is not its body's would leave the viewer waiting for bytes, or reading the
# rest of its body as the next response.
LENGTH = frozenset({"content-length", "transfer-encoding"})
# Statuses whose responses end at their head (RFC 9112 6.3): a body sent after one would be read
# by the viewer as the start of the next response.
BODILESS = frozenset({204, 304})
# What a viewer-request function reads but cannot add, change or remove (DeveloperGuide/
# edge-function-restrictions-all.html): the viewer's own stay. Host names the distribution, in
# the cache key and where the edge fetches from; the others frame the request's body.
READ_ONLY = frozenset({"host", "content-length", "transfer-encoding", "via"})
# What a URI (or query) a function returns keeps as it is; anything else is percent-encoded (UTF-8).
_URI_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _URI_SAFE + "?"
Fields = list[tuple[str, str]]


class InvalidResult(Exception):
    """A function returned something that is neither a request nor a response CloudFront takes."""


@dataclass(frozen=True, slots=True)
class EdgeFunctions:
    """The LIVE code of the functions a behaviour associates, for the edge to run."""

    distribution_id: str
    domain_name: str
    viewer_request: str | None = None
    viewer_response: str | None = None


@dataclass(frozen=True, slots=True)
class ViewerRequest:
    """A request as the edge received it (or as a viewer-request function left it): `uri` is the
    path as sent, `query` the query string as sent (without '?'), `headers` lower-case names."""

    method: str
    uri: str
    query: str
    headers: Fields


@dataclass(frozen=True, slots=True)
class Answer:
    """A response: a viewer-request function's own, or the one a viewer-response function leaves."""

    status: int
    headers: Fields
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Context:
    distribution_id: str
    domain_name: str
    request_id: str
    viewer_ip: str


def request_event(context: Context, request: ViewerRequest) -> dict[str, Any]:
    return _event(context, VIEWER_REQUEST, request)


def response_event(context: Context, request: ViewerRequest, response: Answer) -> dict[str, Any]:
    event = _event(context, VIEWER_RESPONSE, request)
    headers = [(name, value) for name, value in response.headers if name != "set-cookie"]
    event["response"] = {
        "statusCode": response.status, "statusDescription": "",
        "headers": _values(headers), "cookies": _set_cookies(response.headers),
    }
    return event


def _event(context: Context, event_type: str, request: ViewerRequest) -> dict[str, Any]:
    headers = [(name, value) for name, value in request.headers if name != "cookie"]
    cookies = [pair for name, value in request.headers if name == "cookie" for pair in _cookie_pairs(value)]
    return {
        "version": VERSION,
        "context": {"distributionDomainName": context.domain_name, "distributionId": context.distribution_id,
                    "eventType": event_type, "requestId": context.request_id},
        "viewer": {"ip": context.viewer_ip},
        "request": {"method": request.method, "uri": request.uri, "querystring": _values(_query_pairs(request.query)),
                    "headers": _values(headers), "cookies": _values(cookies)},
    }


def request_result(value: Any, request: ViewerRequest) -> ViewerRequest | Answer:
    """What a viewer-request function's returned value asks: the request to serve, or a response."""
    if not isinstance(value, dict):
        raise InvalidResult("The function returned neither a request nor a response object.")
    if "statusCode" in value:
        return generated_response(value)
    uri = value.get("uri", request.uri)
    if not isinstance(uri, str) or not uri.startswith("/"):
        raise InvalidResult("The request's uri must be a string starting with '/'.")
    headers = [pair for pair in request.headers if pair[0] in READ_ONLY]
    headers += [pair for pair in _pairs(value.get("headers", {}), "headers") if pair[0] not in READ_ONLY]
    cookies = _pairs(value.get("cookies", {}), "cookies")
    if cookies:
        headers.append(("cookie", "; ".join(f"{name}={cookie}" for name, cookie in cookies)))
    _check_fields(headers)
    return ViewerRequest(request.method, quote(uri, safe=_URI_SAFE), quote(_query(value), safe=_QUERY_SAFE), headers)


def _query(request: dict[str, Any]) -> str:
    """The query string a returned request holds: its querystring object's pairs, or the text a
    cloudfront-js-2.0 function may set it to (as AWS's example that sorts the query does)."""
    querystring = request.get("querystring", {})
    if isinstance(querystring, str):
        return querystring
    return "&".join(f"{name}={item}" for name, item in _pairs(querystring, "querystring"))


def generated_response(value: dict[str, Any]) -> Answer:
    """A response object: statusCode, headers, cookies and a body (a string, or {data, encoding}
    with encoding text or base64), framed by the edge."""
    status = value.get("statusCode")
    if isinstance(status, str) and status.isascii() and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
        raise InvalidResult("The response's statusCode must be the status of a final response (200 to 599).")
    headers = [pair for pair in _pairs(value.get("headers", {}), "headers") if pair[0] not in LENGTH]
    headers += [("set-cookie", cookie) for cookie in _cookie_lines(value.get("cookies", {}))]
    _check_fields(headers)
    body = _body(value.get("body"))
    return Answer(status, headers, b"" if status in BODILESS else body)


def _check_fields(fields: Fields) -> None:
    """Each name a token and each value free of control characters (RFC 9110 5.1, 5.5): a CR or
    LF would split the message into fields (or messages) the function's input may choose."""
    for name, value in fields:
        if not TOKEN.fullmatch(name) or not FIELD_VALUE.fullmatch(value):
            raise InvalidResult(f"The header {name[:64]!r} is no valid HTTP field.")


def response_result(value: Any, response: Answer) -> Answer:
    """The response a viewer-response function returned, as the viewer gets it: its status and
    headers (and cookies), with the body and its framing unchanged, unless the status changed to
    or from one that carries no body (the edge then sends none)."""
    if not isinstance(value, dict):
        raise InvalidResult("The function did not return a response object.")
    changed = generated_response({**value, "statusCode": value.get("statusCode", response.status), "body": None})
    kept = [(name, item) for name, item in response.headers if name in FRAMING]
    if changed.status in BODILESS:
        kept = []
    elif response.status in BODILESS:
        kept = [("content-length", "0")]
    return Answer(changed.status, [pair for pair in changed.headers if pair[0] not in FRAMING] + kept)


def output(value: Any, event_type: str) -> dict[str, Any]:
    """TestFunction's FunctionOutput: what the function returned, under `request` or `response`."""
    if event_type == VIEWER_REQUEST and isinstance(value, dict) and "statusCode" not in value:
        return {"request": value}
    return {"response": value}


def _values(pairs: Fields) -> dict[str, dict[str, Any]]:
    """CloudFront's {name: {value, multiValue}}: multiValue only for a name given more than once."""
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return {name: {"value": values[0]} if len(values) == 1 else
            {"value": values[0], "multiValue": [{"value": value} for value in values]}
            for name, values in grouped.items()}


def _pairs(values: Any, what: str) -> Fields:
    """{name: {value, multiValue}} back to (name, value) pairs; multiValue wins when given."""
    if not isinstance(values, dict):
        raise InvalidResult(f"The {what} must be an object.")
    pairs: Fields = []
    for name, entry in values.items():
        if not isinstance(entry, dict):
            raise InvalidResult(f"The {what} entry {name[:64]} must be an object with a value.")
        items = entry.get("multiValue")
        listed = [item.get("value") for item in items if isinstance(item, dict)] if isinstance(items, list) else [
            entry.get("value")]
        for item in listed:
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                raise InvalidResult(f"The {what} entry {name[:64]} has no string value.")
            pairs.append((name.lower() if what == "headers" else name, str(item)))
    return pairs


def _cookie_lines(cookies: Any) -> list[str]:
    """A response's cookies: Set-Cookie lines, `name=value; attributes`."""
    if not isinstance(cookies, dict):
        raise InvalidResult("The cookies must be an object.")
    lines = []
    for name, entry in cookies.items():
        listed = entry.get("multiValue") if isinstance(entry, dict) else None
        entries: list[Any] = listed if isinstance(listed, list) else [entry]
        for item in entries:
            if not isinstance(item, dict) or not isinstance(item.get("value", ""), str):
                raise InvalidResult(f"The cookie {name[:64]} must be an object with a value.")
            attributes = item.get("attributes")
            lines.append(f"{name}={item.get('value', '')}" + (f"; {attributes}" if attributes else ""))
    return lines


def _body(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    if not isinstance(body, dict) or not isinstance(body.get("data"), str):
        raise InvalidResult("The response's body must be a string or an object with data.")
    encoding = body.get("encoding", "text")
    if encoding == "text":
        return str(body["data"]).encode()
    if encoding == "base64":
        try:
            return base64.b64decode(body["data"], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidResult("The response's body is not valid base64.") from None
    raise InvalidResult("The response's body encoding must be text or base64.")


def _query_pairs(query: str) -> Fields:
    return [(name, value) for name, _, value in (item.partition("=") for item in query.split("&") if item)]


def _cookie_pairs(header: str) -> Fields:
    return [(name.strip(), value.strip()) for name, _, value in
            (item.partition("=") for item in header.split(";") if item.strip())]


def _set_cookies(headers: Fields) -> dict[str, dict[str, Any]]:
    """Set-Cookie fields as CloudFront's response cookies: {name: {value, attributes}}."""
    found: dict[str, list[dict[str, str]]] = {}
    for name, line in headers:
        if name != "set-cookie":
            continue
        pair, _, attributes = line.partition(";")
        cookie, _, value = pair.partition("=")
        entry = {"value": value.strip()}
        if attributes.strip():
            entry["attributes"] = attributes.strip()
        found.setdefault(cookie.strip(), []).append(entry)
    return {name: entries[0] if len(entries) == 1 else {**entries[0], "multiValue": entries}
            for name, entries in found.items()}
