"""The event stream framing InvokeWithResponseStream answers in, read back by botocore's own
decoder (what every boto3 caller reads it with)."""

from __future__ import annotations

import json

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from strato.api.awslambda import eventstream


def decoded(data: bytes) -> list[tuple[dict[str, object], bytes]]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(message.headers, message.payload) for message in buffer]


def test_an_event_carries_its_type_content_type_and_payload() -> None:
    ((headers, payload),) = decoded(eventstream.event("PayloadChunk", b"\x00binary\xff", "application/octet-stream"))
    assert headers == {":event-type": "PayloadChunk", ":content-type": "application/octet-stream",
                       ":message-type": "event"}
    assert payload == b"\x00binary\xff"


def test_events_follow_each_other_and_json_events_hold_their_fields() -> None:
    stream = eventstream.event("PayloadChunk", b"", "application/octet-stream") + \
        eventstream.json_event("InvokeComplete", {"LogResult": "U1RBUlQ=", "Name": "\u00e9t\u00e9"})
    messages = decoded(stream)
    assert [headers[":event-type"] for headers, _ in messages] == ["PayloadChunk", "InvokeComplete"]
    assert messages[0][1] == b""
    assert json.loads(messages[1][1]) == {"LogResult": "U1RBUlQ=", "Name": "\u00e9t\u00e9"}


def test_a_damaged_message_fails_its_checksum() -> None:
    data = bytearray(eventstream.event("PayloadChunk", b"payload", "application/octet-stream"))
    data[-6] ^= 0xFF
    with pytest.raises(ChecksumMismatch):
        decoded(bytes(data))
