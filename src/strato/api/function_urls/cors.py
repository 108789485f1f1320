"""CORS for a function URL with a Cors configuration, pure: the URL answers preflight requests
itself and adds the Access-Control-* headers to the function's responses (overriding any the
function set). Source: the Lambda developer guide, "Function URL settings: Cross-origin
resource sharing (CORS)", and the Fetch standard's CORS protocol.
"""

from __future__ import annotations

from typing import Any

_CORS_PREFIX = "access-control-"


def is_preflight(method: str, headers: dict[str, str]) -> bool:
    return method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers


def _allowed_origin(cors: dict[str, Any], origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin for a request's Origin: `*` when every origin is allowed
    (the origin itself when credentials are), the origin when it is listed, else none."""
    if origin is None:
        return None
    origins = cors.get("AllowOrigins") or []
    if "*" in origins:
        return origin if cors.get("AllowCredentials") else "*"
    return origin if origin in origins else None


def _varies(cors: dict[str, Any]) -> bool:
    """Whether the answers to requests with an Origin differ by its value: all but `*` to every
    origin. Then they say so (Vary: Origin), so that a cache in front (the edge) keeps one
    answer per origin. An answer without CORS headers (no Origin, or one not allowed) says so
    whatever the configuration: with `*`, a request with an Origin gets Access-Control-Allow-Origin
    and one without does not (the Fetch standard, 3.2.5 "CORS protocol and HTTP caches")."""
    return not ("*" in (cors.get("AllowOrigins") or []) and not cors.get("AllowCredentials"))


def _common(cors: dict[str, Any], allowed: str) -> list[tuple[str, str]]:
    headers = [("access-control-allow-origin", allowed)]
    if cors.get("AllowCredentials"):
        headers.append(("access-control-allow-credentials", "true"))
    if _varies(cors):
        headers.append(("vary", "Origin"))
    return headers


def preflight_headers(cors: dict[str, Any], request_headers: dict[str, str]) -> list[tuple[str, str]]:
    """The headers of the URL's own answer to a preflight request (for an origin not allowed,
    only Vary: Origin)."""
    allowed = _allowed_origin(cors, request_headers.get("origin"))
    if allowed is None:
        return [("vary", "Origin")]
    headers = _common(cors, allowed)
    for key, name in (("AllowMethods", "access-control-allow-methods"),
                      ("AllowHeaders", "access-control-allow-headers")):
        if cors.get(key):
            headers.append((name, ",".join(cors[key])))
    if cors.get("MaxAge"):
        headers.append(("access-control-max-age", str(cors["MaxAge"])))
    return headers


def response_headers(cors: dict[str, Any], origin: str | None,
                     headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A function's response headers with the configuration's CORS headers in place of its own."""
    allowed = _allowed_origin(cors, origin)
    if allowed is None:
        return [*headers, ("vary", "Origin")]
    kept = [(name, value) for name, value in headers if not name.lower().startswith(_CORS_PREFIX)]
    kept += _common(cors, allowed)
    if cors.get("ExposeHeaders"):
        kept.append(("access-control-expose-headers", ",".join(cors["ExposeHeaders"])))
    return kept
