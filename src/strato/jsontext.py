"""JSON from outside (clients, function code, viewers' signed URLs).

`loads` refuses a document nested too deeply for Python's parser as malformed, with the
ValueError every caller already handles: the parser raises RecursionError instead, which
those callers did not catch, so such a document (a few kilobytes of `[`) got a 500 from the
API, and a function's error document broke its invocation's answer.
"""

from __future__ import annotations

import json
from typing import Any


def loads(data: str | bytes | bytearray) -> Any:
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("the document nests too deeply") from None
