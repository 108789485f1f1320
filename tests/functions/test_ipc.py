"""The worker <-> controller frames: cut whole from any split of the byte stream, and bounded."""

from __future__ import annotations

from typing import Any

import pytest

from strato.functions.ipc import MAX_HEAD, FrameReader, encode_frame


def frames_of(*reads: bytes) -> list[tuple[dict[str, Any], bytes]]:
    seen: list[tuple[dict[str, Any], bytes]] = []
    reader = FrameReader(lambda head, payload: seen.append((head, payload)))
    for data in reads:
        reader.feed(data)
    return seen


def test_a_frame_read_whole_is_handed_on_with_its_payload() -> None:
    assert frames_of(encode_frame({"op": "invoke"}, b'{"a": 1}')) == [({"op": "invoke"}, b'{"a": 1}')]


def test_a_frame_split_byte_by_byte_arrives_once_and_whole() -> None:
    data = encode_frame({"op": "invoke", "name": "f"}, b"x" * 1000)
    assert frames_of(*(data[i:i + 1] for i in range(len(data)))) == [({"op": "invoke", "name": "f"}, b"x" * 1000)]


def test_frames_sharing_reads_are_cut_apart_in_order() -> None:
    data = encode_frame({"n": 1}) + encode_frame({"n": 2}, b"two") + encode_frame({"n": 3}, b"three")
    assert frames_of(data[:20], data[20:]) == [({"n": 1}, b""), ({"n": 2}, b"two"), ({"n": 3}, b"three")]


def test_a_head_past_its_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(ValueError, match="frame of"):
        frames_of((MAX_HEAD + 1).to_bytes(4, "big") + (0).to_bytes(4, "big"))


def test_a_head_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match="not an object"):
        frames_of((2).to_bytes(4, "big") + (0).to_bytes(4, "big") + b"[]")
