"""Request ids (x-amzn-RequestId, the runtime's Lambda-Runtime-Aws-Request-Id): Lambda's shape."""

from __future__ import annotations

import uuid

from strato.api.awslambda.app import new_request_id


def test_a_request_id_is_a_version_4_uuid_in_its_canonical_text() -> None:
    text = new_request_id()
    parsed = uuid.UUID(text)
    assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)


def test_request_ids_do_not_repeat() -> None:
    assert len({new_request_id() for _ in range(100_000)}) == 100_000
