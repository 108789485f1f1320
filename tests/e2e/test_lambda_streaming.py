"""Response streaming against a real strato: a custom runtime that answers in Lambda's streaming
mode reaches boto3's InvokeWithResponseStream chunk by chunk, as the function writes them; its
mid-stream errors and timeouts end the stream as Lambda ends it; Invoke still gets the whole;
a RESPONSE_STREAM function URL streams it to the viewer, its prelude the HTTP status and headers."""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.lambda_helpers import NODE, deploy, needs_node
from tests.e2e.streaming_helpers import STREAMING_BOOTSTRAP, gate
from tests.servers import StratoServer


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


def test_the_log_tail_comes_with_invoke_complete(lam: Any, streaming: str) -> None:
    answer = lam.invoke_with_response_stream(FunctionName=streaming, Payload=json.dumps({"chunks": ["x"]}),
                                             LogType="Tail")
    complete = list(answer["EventStream"])[-1]["InvokeComplete"]
    log = base64.b64decode(complete["LogResult"]).decode()
    assert "START RequestId:" in log
    assert "REPORT RequestId:" in log


def test_invoke_gets_a_streamed_answer_whole(lam: Any, streaming: str) -> None:
    answer = lam.invoke(FunctionName=streaming, Payload=json.dumps({"chunks": ["all ", "of ", "it"]}))
    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    assert answer["Payload"].read() == b"all of it"


def test_invoke_of_a_stream_that_fails_gets_the_error(lam: Any, streaming: str) -> None:
    answer = lam.invoke(FunctionName=streaming, Payload=json.dumps({"chunks": ["x"], "end": "error"}))
    assert answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read())["errorType"] == "Custom.Broken"


PRELUDE_TYPE = "application/vnd.awslambda.http-integration-response"
PUBLIC = {"StatementId": "public-url", "Action": "lambda:InvokeFunctionUrl", "Principal": "*",
          "FunctionUrlAuthType": "NONE"}
PRELUDE = {"statusCode": 201, "headers": {"content-type": "text/event-stream", "x-custom": "yes"},
           "cookies": ["a=1; Path=/", "b=2"]}


@pytest.fixture(scope="module")
def url_host(lam: Any, streaming: str) -> str:
    """The Host of the streaming function's RESPONSE_STREAM URL (public)."""
    lam.add_permission(FunctionName=streaming, **PUBLIC)
    url = lam.create_function_url_config(FunctionName=streaming, AuthType="NONE",
                                         InvokeMode="RESPONSE_STREAM")["FunctionUrl"]
    return str(urlsplit(url).netloc)


@contextmanager
def url_request(server: StratoServer, host: str, event: dict[str, Any]) -> Iterator[http.client.HTTPResponse]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("POST", "/", body=json.dumps(event),
                           headers={"Host": host, "Content-Type": "application/json"})
        yield connection.getresponse()
    finally:
        connection.close()


def with_prelude(chunks: list[str]) -> list[str]:
    return [json.dumps(PRELUDE) + "\0" * 8 + chunks[0], *chunks[1:]]


class TestFunctionUrls:
    def test_the_prelude_is_the_status_and_headers_and_the_body_streams(self, server: StratoServer,
                                                                         url_host: str) -> None:
        with gate() as next_chunk:
            event = {"chunks": with_prelude(["data: 1\n\n", "data: 2\n\n"]), "gate": next_chunk.port,
                     "content_type": PRELUDE_TYPE}
            with url_request(server, url_host, event) as response:
                assert response.status == 201
                assert response.getheader("content-type") == "text/event-stream"
                assert response.getheader("x-custom") == "yes"
                assert response.getheader("transfer-encoding") == "chunked"
                assert [value for name, value in response.getheaders() if name.lower() == "set-cookie"] == \
                    ["a=1; Path=/", "b=2"]
                assert response.read(len("data: 1\n\n")) == b"data: 1\n\n"
                next_chunk.open()  # the first part was read before the function wrote the second
                assert response.read() == b"data: 2\n\n"

    def test_a_prelude_and_its_delimiter_may_come_in_pieces(self, server: StratoServer, url_host: str) -> None:
        prelude = json.dumps(PRELUDE)
        pieces = [prelude[:10], prelude[10:] + "\0" * 3, "\0" * 5 + "body"]
        with gate() as next_chunk:
            event = {"chunks": pieces, "gate": next_chunk.port, "content_type": PRELUDE_TYPE}
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            try:
                connection.request("POST", "/", body=json.dumps(event),
                                   headers={"Host": url_host, "Content-Type": "application/json"})
                next_chunk.open()  # each piece in a write of its own: no answer can begin before the last
                next_chunk.open()
                response = connection.getresponse()
                assert response.status == 201
                assert response.read() == b"body"
            finally:
                connection.close()

    def test_a_stream_without_prelude_is_a_200_of_its_content_type(self, server: StratoServer,
                                                                   url_host: str) -> None:
        with url_request(server, url_host, {"chunks": ["plain ", "text"]}) as response:
            assert response.status == 200
            assert response.getheader("content-type") == "text/plain"
            assert response.read() == b"plain text"

    def test_a_mid_stream_error_cuts_the_body_short(self, server: StratoServer, url_host: str) -> None:
        event = {"chunks": with_prelude(["begun"]), "end": "error",
                 "content_type": PRELUDE_TYPE}
        with url_request(server, url_host, event) as response:
            assert response.status == 201
            with pytest.raises(http.client.IncompleteRead) as cut:
                response.read()
        assert cut.value.partial == b"begun"

    def test_a_stream_whose_prelude_never_ends_is_a_bad_gateway(self, server: StratoServer, url_host: str) -> None:
        event = {"chunks": ['{"statusCode": 200}'], "content_type": PRELUDE_TYPE}
        with url_request(server, url_host, event) as response:
            assert response.status == 502


    def test_a_prelude_nested_too_deeply_is_a_bad_gateway(self, server: StratoServer, url_host: str) -> None:
        prelude = '{"statusCode": 200, "headers": ' + "[" * 10_000 + "]" * 10_000 + "}"
        event = {"chunks": [prelude + "\0" * 8 + "body"], "content_type": PRELUDE_TYPE}
        with url_request(server, url_host, event) as response:
            assert response.status == 502

    def test_a_prelude_status_without_a_body_drops_the_body_and_keeps_the_connection(
            self, server: StratoServer, url_host: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        headers = {"Host": url_host, "Content-Type": "application/json"}
        try:
            for status in (204, 304):
                event = {"chunks": [json.dumps({"statusCode": status}) + "\0" * 8 + "no body here"],
                         "content_type": PRELUDE_TYPE}
                connection.request("POST", "/", body=json.dumps(event), headers=headers)
                response = connection.getresponse()
                assert (response.status, response.read()) == (status, b"")
            connection.request("POST", "/", body=json.dumps({"chunks": ["still ", "open"]}), headers=headers)
            assert connection.getresponse().read() == b"still open"  # the same connection
        finally:
            connection.close()

NODE_STREAMING = """
const net = require("net");

// Resolves once per line the test's gate sends.
function gate(port) {
  const socket = net.connect(port, "127.0.0.1");
  let ready = 0;
  const waiting = [];
  socket.on("data", (data) => {
    for (const byte of data) {
      if (byte !== 10) continue;
      if (waiting.length) waiting.shift()();
      else ready += 1;
    }
  });
  return () => new Promise((resolve) => {
    if (ready) {
      ready -= 1;
      resolve();
    } else {
      waiting.push(resolve);
    }
  });
}

let invocations = 0;  // run by this environment

exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  invocations += 1;
  if (event.requestContext) event = JSON.parse(event.body);  // through a function URL
  if (event.count) event.chunks = [String(invocations)];
  const next = event.gate ? gate(event.gate) : null;
  if (event.http) responseStream = awslambda.HttpResponseStream.from(responseStream, event.http);
  else responseStream.setContentType("text/plain");
  for (const [index, chunk] of event.chunks.entries()) {
    if (index && next) await next();
    responseStream.write(chunk);
  }
  if (event.fail) throw new RangeError("failed mid-stream");
  responseStream.end();
});
"""


@pytest.fixture(scope="module")
def node_streaming(lam: Any) -> Iterator[str]:
    """A Node.js function whose handler is wrapped in awslambda.streamifyResponse."""
    assert NODE is not None  # its tests are skipped without node
    name = deploy(lam, "", runtime=NODE, handler="index.handler", files={"index.js": NODE_STREAMING})
    yield name
    lam.delete_function(FunctionName=name)


@needs_node
class TestNodeStreamifyResponse:
    def test_each_write_reaches_the_caller_before_the_next(self, lam: Any, node_streaming: str) -> None:
        received = []
        with gate() as next_chunk:
            for event in events(lam, node_streaming, {"chunks": ["one ", "two ", "three"], "gate": next_chunk.port}):
                if "PayloadChunk" in event:
                    received.append(event["PayloadChunk"]["Payload"])
                    if len(received) < 3:
                        next_chunk.open()
                else:
                    assert event["InvokeComplete"] == {}
        assert received == [b"one ", b"two ", b"three"]

    def test_an_error_after_writes_is_named_by_invoke_complete(self, lam: Any, node_streaming: str) -> None:
        seen = list(events(lam, node_streaming, {"chunks": ["partial"], "fail": True}))
        assert seen[0]["PayloadChunk"]["Payload"] == b"partial"
        complete = seen[-1]["InvokeComplete"]
        assert complete["ErrorCode"] == "Unhandled"
        details = json.loads(complete["ErrorDetails"])
        assert (details["errorType"], details["errorMessage"]) == ("RangeError", "failed mid-stream")

    def test_a_value_written_that_is_not_text_or_bytes_goes_out_as_its_json(self, lam: Any,
                                                                             node_streaming: str) -> None:
        seen = list(events(lam, node_streaming, {"chunks": ["text,", {"an": ["object"]}]}))
        assert b"".join(event["PayloadChunk"]["Payload"] for event in seen[:-1]) == b'text,{"an":["object"]}'
        assert seen[-1]["InvokeComplete"] == {}

    def test_an_error_with_writes_still_queued_leaves_the_environment_warm(self, lam: Any,
                                                                          node_streaming: str) -> None:
        """The writes the handler queued behind one still going out are dropped with the error:
        none may follow the stream's end onto the Runtime API connection."""
        before = int(b"".join(event["PayloadChunk"]["Payload"] for event in
                              events(lam, node_streaming, {"count": True}) if "PayloadChunk" in event))
        seen = list(events(lam, node_streaming, {"chunks": ["sent", " queued", " queued too"], "fail": True}))
        assert seen[-1]["InvokeComplete"]["ErrorCode"] == "Unhandled"
        after = int(b"".join(event["PayloadChunk"]["Payload"] for event in
                             events(lam, node_streaming, {"count": True}) if "PayloadChunk" in event))
        assert after == before + 2  # the same environment ran all three

    def test_invoke_gets_the_written_body_whole(self, lam: Any, node_streaming: str) -> None:
        answer = lam.invoke(FunctionName=node_streaming, Payload=json.dumps({"chunks": ["whole ", "body"]}))
        assert "FunctionError" not in answer
        assert answer["Payload"].read() == b"whole body"

    def test_http_response_stream_from_sets_the_urls_status_and_headers(self, lam: Any, server: StratoServer,
                                                                         node_streaming: str) -> None:
        lam.add_permission(FunctionName=node_streaming, **PUBLIC)
        url = lam.create_function_url_config(FunctionName=node_streaming, AuthType="NONE",
                                             InvokeMode="RESPONSE_STREAM")["FunctionUrl"]
        with gate() as next_chunk:
            event = {"chunks": ["first,", "second"], "gate": next_chunk.port, "http": PRELUDE}
            with url_request(server, urlsplit(url).netloc, event) as response:
                assert response.status == 201
                assert response.getheader("x-custom") == "yes"
                assert [value for name, value in response.getheaders() if name.lower() == "set-cookie"] == \
                    ["a=1; Path=/", "b=2"]
                assert response.read(len("first,")) == b"first,"
                next_chunk.open()
                assert response.read() == b"second"
