"""Pieces every handler uses: JSON responses, the paging parameters, the unqualified function
name some operations take, and the presigned download links of stored zips (GetFunction's
Code.Location, GetLayerVersion's Content.Location)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from strato.auth import sigv4
from strato.fileio import read_at
from strato.http.responses import Response

from ..call import Call
from ..errors import invalid_parameter, validation_error

JSON = "application/json"
LINK_LIFETIME = 600  # seconds, as Lambda's own Code.Location and Content.Location links
_CHUNK = 1024 * 1024


def unqualified(call: Call) -> str:
    """The function's name, for operations on the function itself (its reservation, its
    recursion setting), never a version or alias."""
    name, qualifier = call.target()
    if qualifier is not None:
        raise invalid_parameter("This operation is permitted on Lambda functions only. Aliases and versions do not "
                                "support this operation. Please specify either a function name or an unqualified "
                                "function ARN.")
    return name


def json_response(shape: dict[str, Any], status: int = 200) -> Response:
    return Response(status, [("content-type", JSON)], json.dumps(shape).encode())


def no_content() -> Response:
    return Response(204, [])


def presigned_link(call: Call, raw_path: str, query: list[tuple[str, str]]) -> str:
    """A URL on the endpoint the caller used, presigned for LINK_LIFETIME seconds."""
    request = call.request
    host = request.headers.get("host", "")
    signer = call.services.signer
    signed = sigv4.presign("GET", host, raw_path.encode(), query, access_key=signer.access_key,
                           secret=signer.secret_key, region=call.services.settings.region, service="lambda",
                           now=time.time(), expires=LINK_LIFETIME, s3_path=False)
    return f"{request.scheme}://{host}{raw_path}?{signed}"


def zip_download(path: Path) -> Response:
    """A stored zip, streamed (what a presigned link answers)."""
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size

    async def chunks() -> AsyncIterator[bytes]:
        offset = 0
        while offset < size:
            piece = await read_at(fd, min(_CHUNK, size - offset), offset)
            if not piece:
                raise OSError(f"the zip ended at {offset} of {size} bytes")
            offset += len(piece)
            yield piece

    headers = [("content-type", "application/zip"), ("content-length", str(size))]
    return Response(200, headers, chunks(), close=lambda: os.close(fd))


def max_items(call: Call, default: int = 50, high: int = 10000) -> int:
    text = call.request.query.get("MaxItems")
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= high:
        raise validation_error(text, "maxItems", f"Member must have value between 1 and {high}")
    return int(text)
