"""InvokeWithResponseStream through boto3 against a real strato: the answer arrives as an
event stream of PayloadChunk events and one InvokeComplete, as Lambda sends it for functions
whose runtime answers whole (Python's)."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.e2e.client_errors import refused
from tests.e2e.lambda_helpers import deployed

ECHO = "def handler(event, context):\n    print('echoing')\n    return event\n"
BIG = "def handler(event, context):\n    return 'x' * event['size']\n"
FAILING = "def handler(event, context):\n    raise ValueError('no such thing')\n"


def streamed(lam: Any, name: str, payload: object, **kwargs: Any) -> tuple[dict[str, Any], bytes, dict[str, Any]]:
    """The answer, the chunks' payload joined, and InvokeComplete's fields."""
    answer = lam.invoke_with_response_stream(FunctionName=name, Payload=json.dumps(payload), **kwargs)
    chunks, complete = [], None
    for event in answer["EventStream"]:
        if "PayloadChunk" in event:
            assert complete is None, "a chunk after InvokeComplete"
            chunks.append(event["PayloadChunk"]["Payload"])
        else:
            complete = event["InvokeComplete"]
    assert complete is not None
    return answer, b"".join(chunks), complete


def test_the_answer_arrives_in_chunks_then_invoke_complete(lam: Any) -> None:
    with deployed(lam, ECHO) as name:
        answer, payload, complete = streamed(lam, name, {"hello": "world"})
    assert answer["StatusCode"] == 200
    assert answer["ExecutedVersion"] == "$LATEST"
    assert json.loads(payload) == {"hello": "world"}
    assert complete == {}


def test_a_large_answer_is_split_over_several_chunks(lam: Any) -> None:
    size = 1_000_000
    with deployed(lam, BIG, MemorySize=256) as name:
        answer = lam.invoke_with_response_stream(FunctionName=name, Payload=json.dumps({"size": size}))
        chunks = [event["PayloadChunk"]["Payload"] for event in answer["EventStream"] if "PayloadChunk" in event]
    assert len(chunks) > 1
    assert json.loads(b"".join(chunks)) == "x" * size


def test_the_log_tail_comes_with_invoke_complete(lam: Any) -> None:
    with deployed(lam, ECHO) as name:
        _, _, complete = streamed(lam, name, {}, LogType="Tail")
    log = base64.b64decode(complete["LogResult"]).decode()
    assert "echoing" in log
    assert "START RequestId:" in log
    assert "REPORT RequestId:" in log


def test_a_function_error_is_named_by_invoke_complete(lam: Any) -> None:
    with deployed(lam, FAILING) as name:
        answer, payload, complete = streamed(lam, name, {})
    assert answer["StatusCode"] == 200
    assert payload == b""
    assert complete["ErrorCode"] == "Unhandled"
    details = json.loads(complete["ErrorDetails"])
    assert details["errorType"] == "ValueError"
    assert details["errorMessage"] == "no such thing"


def test_a_qualifier_and_a_dry_run_are_honoured(lam: Any) -> None:
    with deployed(lam, ECHO, Publish=True) as name:
        answer, payload, _ = streamed(lam, name, {"v": 1}, Qualifier="1")
        assert answer["ExecutedVersion"] == "1"
        assert json.loads(payload) == {"v": 1}
        dry = lam.invoke_with_response_stream(FunctionName=name, InvocationType="DryRun", Payload=b"{}")
        dry["EventStream"].close()  # a stream nobody reads holds its connection (an unclosed socket)
        assert dry["StatusCode"] == 204


def test_bad_requests_are_refused_as_invoke_refuses_them(lam: Any) -> None:
    with deployed(lam, ECHO) as name:
        code, status, message = refused(lam.invoke_with_response_stream, FunctionName=name,
                                        InvocationType="Event", Payload=b"{}")
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert "at 'invocationType' failed to satisfy constraint" in message
        assert refused(lam.invoke_with_response_stream, FunctionName=name, Payload=b"{not json")[:2] == \
            ("InvalidRequestContentException", 400)
    assert refused(lam.invoke_with_response_stream, FunctionName=name, Payload=b"{}")[:2] == \
        ("ResourceNotFoundException", 404)
