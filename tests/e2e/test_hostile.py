"""Hostile input: requests no honest client sends are refused with a 400 (in S3's XML form
where HTTP still allows an answer), nothing is stored, and the server stays healthy."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psutil
import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.servers import RawResponse, StratoServer, raw_exchange, read_response, request_head, sign_v4


@dataclass
class Target:
    server: StratoServer
    s3: Any

    def new_bucket(self) -> str:
        name = f"hostile-{uuid.uuid4().hex[:16]}"
        self.s3.create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        return [item["Key"] for item in self.s3.list_objects_v2(Bucket=bucket).get("Contents", [])]

    def signed(self, method: str, target: str, headers: dict[str, str] | None = None,
               payload_hash: str = "UNSIGNED-PAYLOAD") -> bytes:
        """A request head, correctly signed, for `target` (path and query exactly as sent)."""
        signed = sign_v4(method, self.server.url + target, headers, payload_hash=payload_hash)
        return request_head(method, target, signed.headers)

    def send(self, data: bytes) -> RawResponse:
        return raw_exchange(self.server.port, data)


def assert_healthy(server: StratoServer) -> None:
    assert server.alive(), server.text
    with urllib.request.urlopen(f"{server.url}/_strato/health", timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read())["status"] == "ok"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """A server of its own, so that whatever these tests do to it cannot disturb others; it
    must come out of the whole module alive and healthy."""
    server = StratoServer(tmp_path_factory.mktemp("hostile")).start()
    try:
        yield Target(server, make_client(server.url))
        assert_healthy(server)
    finally:
        server.stop()


@pytest.fixture
def bucket(target: Target) -> str:
    return target.new_bucket()


def assert_xml_error(response: RawResponse, status: int, code: str) -> None:
    assert response.status == status, response
    assert response.headers.get("content-type") == "application/xml", response
    assert response.code == code, response


# -- framing --------------------------------------------------------------------------------


def test_both_content_length_and_transfer_encoding_is_refused_and_nothing_is_stored(
    target: Target, bucket: str
) -> None:
    headers = {"Content-Length": "5", "Transfer-Encoding": "chunked"}
    head = target.signed("PUT", f"/{bucket}/smuggled", headers)
    response = target.send(head + b"5\r\nhello\r\n0\r\n\r\n")
    assert_xml_error(response, 400, "BadRequest")
    assert target.keys(bucket) == []
    assert_healthy(target.server)


@pytest.mark.parametrize("expect_continue", [False, True], ids=["plain", "expect-100-continue"])
def test_an_absurd_content_length_is_refused_before_any_body_is_sent(
    target: Target, bucket: str, expect_continue: bool
) -> None:
    headers = {"Content-Length": str(10**15)}
    if expect_continue:
        headers["Expect"] = "100-continue"
    # No body at all: the answer must come from the headers alone (10 s socket timeout).
    response = target.send(target.signed("PUT", f"/{bucket}/enormous", headers))
    assert_xml_error(response, 400, "EntityTooLarge")
    assert target.keys(bucket) == []
    assert_healthy(target.server)


def test_a_refusal_sent_instead_of_100_continue_closes_the_connection(target: Target, bucket: str) -> None:
    # The client never sends the body it held back, so the connection cannot be reused:
    # botocore does reuse it unless told to close, and its next request would be read as body.
    headers = {"Content-Length": "5", "Expect": "100-continue", "x-amz-meta-big": "m" * 2100}
    with socket.create_connection(("127.0.0.1", target.server.port), timeout=10) as sock:
        sock.sendall(target.signed("PUT", f"/{bucket}/held-back", headers))
        response = read_response(sock)
        assert_xml_error(response, 400, "MetadataTooLarge")
        assert response.headers.get("connection") == "close"
        assert sock.recv(1) == b""
    too_big = {"Content-Length": str(10**12), "Expect": "100-continue"}
    refused_early = target.send(target.signed("PUT", f"/{bucket}/held-back", too_big))
    assert refused_early.headers.get("connection") == "close"
    forged = sign_v4("PUT", f"{target.server.url}/{bucket}/held-back",
                     {"Content-Length": "5", "Expect": "100-continue"}, secret_key="not-the-secret")
    refused = target.send(request_head("PUT", f"/{bucket}/held-back", forged.headers))
    assert (refused.status, refused.code) == (403, "SignatureDoesNotMatch")
    assert refused.headers.get("connection") == "close"
    assert target.keys(bucket) == []


def test_boto3_keeps_working_on_its_connection_after_a_refused_upload(target: Target, bucket: str) -> None:
    client = make_client(target.server.url)
    for attempt in range(3):
        with pytest.raises(ClientError) as raised:
            client.put_object(Bucket=bucket, Key=f"refused-{attempt}", Body=b"x" * 100,
                              Metadata={"big": "m" * 2100})
        assert raised.value.response["Error"]["Code"] == "MetadataTooLarge"
        client.put_object(Bucket=bucket, Key=f"accepted-{attempt}", Body=b"y" * 100)
    assert target.keys(bucket) == ["accepted-0", "accepted-1", "accepted-2"]


def test_an_absurd_content_length_on_an_xml_body_is_refused_before_any_body_is_sent(
    target: Target, bucket: str
) -> None:
    response = target.send(target.signed("POST", f"/{bucket}?delete", {"Content-Length": str(10**15)}))
    assert_xml_error(response, 400, "MaxMessageLengthExceeded")


@pytest.mark.parametrize(
    ("mode", "first_line"),
    [
        ("STREAMING-UNSIGNED-PAYLOAD-TRAILER", b"f" * 100_000),
        ("STREAMING-UNSIGNED-PAYLOAD-TRAILER", b"ffffffffffffffffffffffff\r\n"),
        ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", b"f" * 24 + b";chunk-signature=" + b"0" * 64 + b"\r\n"),
        ("STREAMING-UNSIGNED-PAYLOAD-TRAILER", b"100000\r\n"),
    ],
    ids=["endless-size-line", "unsigned-huge-size", "signed-huge-size", "chunk-larger-than-decoded-length"],
)
def test_an_aws_chunked_body_with_an_impossible_chunk_size_is_refused(
    target: Target, bucket: str, mode: str, first_line: bytes
) -> None:
    head = target.signed(
        "PUT", f"/{bucket}/chunked",
        {"Content-Length": str(len(first_line)), "Content-Encoding": "aws-chunked",
         "x-amz-decoded-content-length": "10"},
        payload_hash=mode,
    )
    response = target.send(head + first_line)
    assert response.status == 400, response
    assert response.code in ("IncompleteBody", "InvalidChunkSizeError"), response
    assert target.keys(bucket) == []
    assert_healthy(target.server)


@pytest.mark.parametrize(
    ("start", "filler"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Endless: ", b"a" * 65536),
        (b"GET /", b"a" * 65536),
        (b"GET / HTTP/1.1\r\nHost: x\r\n", b"X-Many: header\r\n" * 4096),
    ],
    ids=["endless-header-value", "endless-url", "endless-header-list"],
)
def test_a_request_head_that_never_ends_is_refused_without_buffering_it(
    target: Target, start: bytes, filler: bytes
) -> None:
    process = psutil.Process(target.server.pid)
    with socket.create_connection(("127.0.0.1", target.server.port), timeout=10) as sock:
        sock.sendall(start)

        def flood() -> None:
            with contextlib.suppress(OSError):  # the server hangs up on it
                for _ in range(64 * 1024 * 1024 // len(filler)):
                    sock.sendall(filler)

        sender = threading.Thread(target=flood)
        sender.start()
        try:
            response = read_response(sock)
        finally:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sender.join(60)
    assert_xml_error(response, 400, "RequestHeaderSectionTooLarge")
    assert process.memory_info().rss < 200 * 1024 * 1024
    assert_healthy(target.server)


def test_a_large_but_reasonable_request_head_is_accepted(target: Target, bucket: str) -> None:
    metadata = {f"x-amz-meta-m{index}": "v" * 60 for index in range(30)}  # 2 KB of metadata
    headers = {"Content-Length": "1", "X-Padding": "p" * 8000, **metadata}
    response = target.send(target.signed("PUT", f"/{bucket}/big-head", headers) + b"x")
    assert response.status == 200, response
    assert target.keys(bucket) == ["big-head"]


@pytest.mark.parametrize("mode", ["UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"])
@pytest.mark.parametrize("decoded_length", ["abc", "\u00b2", "-1", "1e3"])
def test_a_malformed_decoded_content_length_is_a_400(
    target: Target, bucket: str, mode: str, decoded_length: str
) -> None:
    headers = {"Content-Length": "5", "Content-Encoding": "aws-chunked",
               "x-amz-decoded-content-length": decoded_length}
    head = target.signed("PUT", f"/{bucket}/decoded", headers, payload_hash=mode)
    response = target.send(head + b"0\r\n\r\n")
    assert_xml_error(response, 400, "InvalidArgument")
    assert target.keys(bucket) == []


@pytest.mark.parametrize(
    "request_bytes",
    [b"\x00\x01\x02 garbage\r\n\r\n", b"GET / HTTP/9.9 extra\r\n\r\n", b"NOT-A-REQUEST\r\n\r\n",
     b"GET /\x7f\x00 HTTP/1.1\r\nHost: x\r\n\r\n"],
    ids=["binary", "bad-version", "no-target", "control-chars"],
)
def test_a_garbage_request_line_gets_an_xml_400(target: Target, request_bytes: bytes) -> None:
    response = target.send(request_bytes)
    assert_xml_error(response, 400, "BadRequest")
    assert_healthy(target.server)


# -- XML bodies -----------------------------------------------------------------------------

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n'.encode() for i in range(1, 10))
    + b"]>\n<ROOT><KEYTAG>&lol9;</KEYTAG></ROOT>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b"<ROOT><KEYTAG>&xxe;</KEYTAG></ROOT>"
)
PARAMETER_ENTITY = (
    b'<?xml version="1.0"?>\n'
    b'<!DOCTYPE r [<!ENTITY % remote SYSTEM "http://127.0.0.1:1/evil.dtd"> %remote;]>\n'
    b"<ROOT><KEYTAG>decoy</KEYTAG></ROOT>"
)


def _document(template: bytes, operation: str) -> bytes:
    if operation == "DeleteObjects":
        opening, closing = b"<Delete><Object><Key>", b"</Key></Object></Delete>"
    else:
        opening = b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"
        closing = b"</ETag></Part></CompleteMultipartUpload>"
    return template.replace(b"<ROOT><KEYTAG>", opening).replace(b"</KEYTAG></ROOT>", closing)


def _xml_target(target: Target, bucket: str, operation: str) -> str:
    if operation == "DeleteObjects":
        return f"/{bucket}?delete"
    upload = target.s3.create_multipart_upload(Bucket=bucket, Key="assembled")
    target.s3.upload_part(Bucket=bucket, Key="assembled", UploadId=upload["UploadId"], PartNumber=1,
                          Body=b"part")
    return f"/{bucket}/assembled?uploadId={upload['UploadId']}"


@pytest.mark.parametrize("operation", ["DeleteObjects", "CompleteMultipartUpload"])
@pytest.mark.parametrize(
    "template", [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY],
    ids=["billion-laughs", "xxe", "parameter-entity"],
)
def test_entity_tricks_in_an_xml_body_are_malformed_xml(
    target: Target, bucket: str, operation: str, template: bytes
) -> None:
    target.s3.put_object(Bucket=bucket, Key="decoy", Body=b"still here")
    body = _document(template, operation)
    head = target.signed("POST", _xml_target(target, bucket, operation), {"Content-Length": str(len(body))})
    response = target.send(head + body)
    assert_xml_error(response, 400, "MalformedXML")
    assert b"root:" not in response.body
    assert target.s3.get_object(Bucket=bucket, Key="decoy")["Body"].read() == b"still here"
    assert "assembled" not in target.keys(bucket)
    assert_healthy(target.server)


def test_megabytes_of_whitespace_in_an_xml_body_are_refused(target: Target, bucket: str) -> None:
    target.s3.put_object(Bucket=bucket, Key="a", Body=b"kept")
    body = b"<Delete>" + b" " * (10 * 1024 * 1024) + b"<Object><Key>a</Key></Object></Delete>"
    head = target.signed("POST", f"/{bucket}?delete", {"Content-Length": str(len(body))})
    with socket.create_connection(("127.0.0.1", target.server.port), timeout=10) as sock:
        sock.sendall(head)

        def send_body() -> None:
            # The server may answer and close before taking it all: a refused send is fine.
            with contextlib.suppress(OSError):
                sock.sendall(body)

        sender = threading.Thread(target=send_body)
        sender.start()
        try:
            response = read_response(sock)
        finally:
            with contextlib.suppress(OSError):  # the server may already have closed it
                sock.shutdown(socket.SHUT_RDWR)
            sender.join(30)
    assert_xml_error(response, 400, "MaxMessageLengthExceeded")
    assert target.keys(bucket) == ["a"]
    assert_healthy(target.server)


# -- names and headers ----------------------------------------------------------------------


def test_a_key_with_a_nul_byte_is_refused(target: Target, bucket: str) -> None:
    response = target.send(target.signed("PUT", f"/{bucket}/before%00after", {"Content-Length": "1"}) + b"x")
    assert_xml_error(response, 400, "InvalidArgument")
    assert target.keys(bucket) == []


@pytest.mark.parametrize("path", ["/{bucket}/bad%FFutf8", "/{bucket}/%C3%28", "/{bucket}/%ED%A0%80surrogate"])
def test_invalid_utf8_in_the_path_is_refused(target: Target, bucket: str, path: str) -> None:
    target_path = path.format(bucket=bucket)
    get = target.send(target.signed("GET", target_path))
    assert_xml_error(get, 400, "InvalidURI")
    put = target.send(target.signed("PUT", target_path, {"Content-Length": "1"}) + b"x")
    assert_xml_error(put, 400, "InvalidURI")
    assert target.keys(bucket) == []


def test_user_metadata_over_2_kib_is_refused(target: Target, bucket: str) -> None:
    with pytest.raises(ClientError) as raised:
        target.s3.put_object(Bucket=bucket, Key="meta", Body=b"x", Metadata={"big": "m" * 2100})
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert raised.value.response["Error"]["Code"] == "MetadataTooLarge"
    target.s3.put_object(Bucket=bucket, Key="meta", Body=b"x", Metadata={"small": "m" * 1000})
    assert target.keys(bucket) == ["meta"]


@pytest.mark.parametrize("number", ["0", "10001", "-1", "1e3", "99999999999999999999"])
def test_a_part_number_outside_1_to_10000_is_refused(target: Target, bucket: str, number: str) -> None:
    upload = target.s3.create_multipart_upload(Bucket=bucket, Key="parts")["UploadId"]
    path = f"/{bucket}/parts?partNumber={number}&uploadId={upload}"
    head = target.signed("PUT", path, {"Content-Length": "1"})
    assert_xml_error(target.send(head + b"x"), 400, "InvalidArgument")
    assert target.s3.list_parts(Bucket=bucket, Key="parts", UploadId=upload).get("Parts", []) == []


# -- slow clients ---------------------------------------------------------------------------


def test_a_client_trickling_its_body_does_not_hold_up_other_clients(target: Target, bucket: str) -> None:
    target.s3.put_object(Bucket=bucket, Key="ready", Body=b"served meanwhile")
    body = b"trickled one byte at a time"
    head = target.signed("PUT", f"/{bucket}/slow", {"Content-Length": str(len(body))})
    other_done = threading.Event()
    sent_before_other_done: list[int] = []
    result: list[RawResponse] = []

    def trickle() -> None:
        with socket.create_connection(("127.0.0.1", target.server.port), timeout=30) as sock:
            sock.sendall(head)
            sent = 0
            while sent < len(body) - 1:
                sock.sendall(body[sent : sent + 1])
                sent += 1
                # One byte per 100 ms until the other client is through; never the last byte before.
                if other_done.wait(0.1):
                    break
            sent_before_other_done.append(sent)
            sock.sendall(body[sent:])
            result.append(read_response(sock))

    slow = threading.Thread(target=trickle)
    slow.start()
    try:
        got = make_client(target.server.url).get_object(Bucket=bucket, Key="ready")["Body"].read()
        listed = target.keys(bucket)
    finally:
        other_done.set()
        slow.join(60)
    assert got == b"served meanwhile"
    # The slow upload was still incomplete while the other client was served.
    assert listed == ["ready"]
    assert sent_before_other_done[0] < len(body)
    assert result[0].status == 200, result[0]
    assert target.s3.get_object(Bucket=bucket, Key="slow")["Body"].read() == body
    assert_healthy(target.server)


def test_the_server_is_still_alive_and_healthy(target: Target) -> None:
    assert_healthy(target.server)


@pytest.fixture(scope="module")
def impatient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StratoServer]:
    """A server that drops clients quiet for half a second (STRATO_REQUEST_TIMEOUT)."""
    running = StratoServer(tmp_path_factory.mktemp("impatient"), env={"STRATO_REQUEST_TIMEOUT": "0.5"}).start()
    yield running
    running.stop()


def test_a_client_that_stalls_mid_head_is_refused_with_request_timeout(impatient: StratoServer) -> None:
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=10) as conn:
        conn.sendall(b"GET /bucket/key HTTP/1.1\r\nHost: x\r\n")
        answer = read_response(conn)
    assert answer.status == 400
    assert b"<Code>RequestTimeout</Code>" in answer.body


def test_a_keep_alive_client_that_stalls_mid_head_of_a_later_request_is_refused(impatient: StratoServer) -> None:
    """Idle time between requests is the keep-alive's to judge; a head once begun has the
    request timeout from its first byte, on every request of a connection."""
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=10) as conn:
        conn.sendall(b"GET /_strato/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(conn).status == 200
        time.sleep(0.7)  # idle, longer than the request timeout: not refused for it
        conn.sendall(b"GET /_strato/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(conn).status == 200
        conn.sendall(b"GET /bucket/key HTTP/1.1\r\nHost: x\r\n")
        answer = read_response(conn)
    assert answer.status == 400
    assert b"<Code>RequestTimeout</Code>" in answer.body


def test_a_client_that_stalls_mid_body_is_refused_and_nothing_is_stored(impatient: StratoServer) -> None:
    client = make_client(impatient.url)
    name = f"stall-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    body = b"0123456789" * 10
    signed = sign_v4("PUT", f"{impatient.url}/{name}/stalled", {"Content-Length": str(len(body))})
    head = request_head("PUT", f"/{name}/stalled", signed.headers)
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=10) as conn:
        conn.sendall(head + body[:10])
        answer = read_response(conn)
    assert answer.status == 400
    assert b"<Code>RequestTimeout</Code>" in answer.body
    assert client.list_objects_v2(Bucket=name)["KeyCount"] == 0
