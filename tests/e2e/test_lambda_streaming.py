"""Response streaming against a real strato: a custom runtime that answers in Lambda's streaming
mode reaches boto3's InvokeWithResponseStream chunk by chunk, as the function writes them; its
mid-stream errors and timeouts end the stream as Lambda ends it; Invoke still gets the whole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.lambda_helpers import deploy
from tests.e2e.streaming_helpers import STREAMING_BOOTSTRAP, gate


@pytest.fixture(scope="module")
def streaming(lam: Any) -> Iterator[str]:
    """A provided.al2023 function whose bootstrap streams its answer (streaming_helpers.py)."""
    name = deploy(lam, "", runtime="provided.al2023", handler="stream.handler", Timeout=1,
                  files={"bootstrap": STREAMING_BOOTSTRAP}, executable=("bootstrap",))
    yield name
    lam.delete_function(FunctionName=name)


def events(lam: Any, name: str, event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    answer = lam.invoke_with_response_stream(FunctionName=name, Payload=json.dumps(event))
    assert answer["StatusCode"] == 200
    assert answer["ExecutedVersion"] == "$LATEST"
    yield from answer["EventStream"]


def test_each_chunk_reaches_the_caller_before_the_function_writes_the_next(lam: Any, streaming: str) -> None:
    received = []
    complete = None
    with gate() as next_chunk:
        for event in events(lam, streaming, {"chunks": ["one ", "two ", "three"], "gate": next_chunk.port}):
            if "PayloadChunk" in event:
                received.append(event["PayloadChunk"]["Payload"])
                if len(received) < 3:
                    next_chunk.open()  # only now may the function write the next one
            else:
                complete = event["InvokeComplete"]
    assert received == [b"one ", b"two ", b"three"]
    assert complete == {}


def test_a_mid_stream_error_ends_the_stream_after_the_chunks_sent(lam: Any, streaming: str) -> None:
    seen = list(events(lam, streaming, {"chunks": ["partial ", "answer"], "end": "error"}))
    assert b"".join(event["PayloadChunk"]["Payload"] for event in seen[:-1]) == b"partial answer"
    complete = seen[-1]["InvokeComplete"]
    assert complete["ErrorCode"] == "Unhandled"
    assert json.loads(complete["ErrorDetails"]) == {"errorType": "Custom.Broken", "errorMessage": "it broke mid-stream"}


def test_a_timeout_mid_stream_ends_the_stream_with_the_timeout_error(lam: Any, streaming: str) -> None:
    seen = list(events(lam, streaming, {"chunks": ["started"], "end": "hang"}))
    assert seen[0]["PayloadChunk"]["Payload"] == b"started"
    complete = seen[-1]["InvokeComplete"]
    assert complete["ErrorCode"] == "Unhandled"
    details = json.loads(complete["ErrorDetails"])
    assert details["errorType"] == "Sandbox.Timedout"
    assert details["errorMessage"].endswith("Task timed out after 1.00 seconds")


def test_invoke_gets_a_streamed_answer_whole(lam: Any, streaming: str) -> None:
    answer = lam.invoke(FunctionName=streaming, Payload=json.dumps({"chunks": ["all ", "of ", "it"]}))
    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    assert answer["Payload"].read() == b"all of it"


def test_invoke_of_a_stream_that_fails_gets_the_error(lam: Any, streaming: str) -> None:
    answer = lam.invoke(FunctionName=streaming, Payload=json.dumps({"chunks": ["x"], "end": "error"}))
    assert answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read())["errorType"] == "Custom.Broken"
