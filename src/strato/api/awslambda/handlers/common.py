"""Pieces every handler uses: JSON responses and the paging parameters."""

from __future__ import annotations

import json
from typing import Any

from strato.http.responses import Response

from ..call import Call
from ..errors import validation_error

JSON = "application/json"


def json_response(shape: dict[str, Any], status: int = 200) -> Response:
    return Response(status, [("content-type", JSON)], json.dumps(shape).encode())


def no_content() -> Response:
    return Response(204, [])


def max_items(call: Call, default: int = 50, high: int = 10000) -> int:
    text = call.request.query.get("MaxItems")
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= high:
        raise validation_error(text, "maxItems", f"Member must have value between 1 and {high}")
    return int(text)
