"""The event a function URL request becomes, pure: Lambda's payload format version 2.0 (the
schema of API Gateway HTTP APIs' format 2.0, with `$default` for routeKey and stage).
Source: the Lambda developer guide, "Invoking Lambda function URLs", "Request payload format".
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any

from strato.account import ACCOUNT_ID
from strato.http.fields import HOP_BY_HOP
from strato.http.request import parse_query

# Bodies of these media types are passed as text when they are UTF-8; any other body (a form,
# XML, multipart) is base64, as Lambda passes them.
_TEXT_TYPE = "text/"
_JSON_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class UrlRequest:
    """What the event is built from: the request as received, and who signed it (AWS_IAM)."""

    url_id: str
    method: str
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]  # names lower-case, in the order received
    body: bytes
    source_ip: str
    scheme: str
    protocol: str  # HTTP/1.1
    request_id: str
    access_key: str | None = None  # the signer's key, for AWS_IAM URLs


def _joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Repeated names joined with commas, as format 2.0 does for headers and query parameters."""
    joined: dict[str, str] = {}
    for name, value in pairs:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def _text_of(content_type: str, body: bytes) -> str | None:
    """The body as the text it is passed as (isBase64Encoded false), decoded once; None when it
    is not of a text type or not UTF-8."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not (media_type.startswith(_TEXT_TYPE) or media_type == _JSON_TYPE):
        return None
    try:
        return body.decode()
    except UnicodeDecodeError:
        return None


def _iam(request: UrlRequest) -> dict[str, Any]:
    """requestContext.authorizer.iam: the caller's key and account (strato's keys are the
    account's root's or a function's own)."""
    return {"iam": {"accessKey": request.access_key, "accountId": ACCOUNT_ID, "callerId": ACCOUNT_ID,
                    "cognitoIdentity": None, "principalOrgId": None, "userArn": f"arn:aws:iam::{ACCOUNT_ID}:root",
                    "userId": ACCOUNT_ID}}


def request_event(request: UrlRequest, now: float | None = None) -> dict[str, Any]:
    """The event: Cookie headers become `cookies`, the others but hop-by-hop ones `headers`
    (lower-case, repeats joined with commas); `body` only when there is one, base64 unless it is text."""
    now = time.time() if now is None else now
    cookies = [part.strip() for name, value in request.headers if name == "cookie"
               for part in value.split(";") if part.strip()]
    # The connection's own headers end at the URL, as they end at any proxy (RFC 9110 7.6.1).
    headers = _joined([(name, value) for name, value in request.headers
                       if name != "cookie" and name not in HOP_BY_HOP])
    # The client's own X-Forwarded-For is kept, with the address it came from appended: the
    # last entry is the one the function can trust. The scheme is the connection's.
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    headers["x-forwarded-proto"] = request.scheme
    domain = headers.get("host", "").rsplit(":", 1)[0]
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID if request.access_key else "anonymous",
        "apiId": request.url_id,
        "domainName": domain,
        "domainPrefix": request.url_id,
        "http": {"method": request.method, "path": request.raw_path, "protocol": request.protocol,
                 "sourceIp": request.source_ip, "userAgent": headers.get("user-agent", "")},
        "requestId": request.request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if request.access_key:
        context["authorizer"] = _iam(request)
    event: dict[str, Any] = {"version": "2.0", "routeKey": "$default", "rawPath": request.raw_path,
                             "rawQueryString": request.raw_query}
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if request.raw_query:
        event["queryStringParameters"] = _joined(parse_query(request.raw_query.encode("latin-1"), "replace"))
    event["requestContext"] = context
    text = _text_of(headers.get("content-type", ""), request.body) if request.body else ""
    if request.body:
        event["body"] = base64.b64encode(request.body).decode() if text is None else text
    event["isBase64Encoded"] = text is None
    return event
