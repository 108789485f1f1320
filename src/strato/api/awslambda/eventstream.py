"""The AWS event stream encoding (`application/vnd.amazon.eventstream`), pure: the framing of
InvokeWithResponseStream's answer, which botocore's EventStream reads.

A message: its total length and its headers' length (4 bytes each, big-endian), a CRC-32 of
those 8 bytes, the headers, the payload, and a CRC-32 of everything before it. A header: its
name's length (1 byte), the name, its value's type (7: a string), the value's length (2 bytes),
the value. Source: the AWS SDKs' event stream specification (botocore/eventstream.py reads it).
"""

from __future__ import annotations

import json
import struct
import zlib

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return bytes([len(raw_name)]) + raw_name + bytes([_STRING]) + struct.pack(">H", len(raw_value)) + raw_value


def message(headers: list[tuple[str, str]], payload: bytes) -> bytes:
    encoded = b"".join(_header(name, value) for name, value in headers)
    prelude = _PRELUDE.pack(12 + len(encoded) + len(payload) + 4, len(encoded))
    framed = prelude + _CRC.pack(zlib.crc32(prelude)) + encoded + payload
    return framed + _CRC.pack(zlib.crc32(framed))


def event(event_type: str, payload: bytes, content_type: str) -> bytes:
    """One event of a stream (what botocore hands the caller as {event_type: ...})."""
    return message([(":event-type", event_type), (":content-type", content_type), (":message-type", "event")],
                   payload)


def json_event(event_type: str, fields: dict[str, str]) -> bytes:
    return event(event_type, json.dumps(fields).encode(), "application/json")
