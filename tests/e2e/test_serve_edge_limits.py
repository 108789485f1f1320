"""The serve edge's protection and logs come from the environment: a per-client rate limit
(STRATO_EDGE_RATE) and an access log (STRATO_EDGE_ACCESS_LOG). The limit holds for behaviours
with CloudFront Functions too, before their functions run."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_client
from tests.e2e.test_cloudfront_functions import associations, new_function
from tests.e2e.test_serve_edge import behavior, create_distribution, http_origin
from tests.e2e.web import get
from tests.servers import StratoServer

ANSWERING = b"""function handler(event) {
  return {statusCode: 200, headers: {'content-type': {value: 'text/plain'}}, body: 'from the function'};
}"""


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[StratoServer]:
    running = StratoServer(tmp_path / "data", env={"STRATO_EDGE_RATE": "2",
                                                   "STRATO_EDGE_ACCESS_LOG": str(tmp_path / "access.log")}).start()
    yield running
    running.stop()


def status_of(url: str) -> tuple[int, str | None]:
    status, headers, _ = get(url)
    return status, headers.get("retry-after")


def test_a_client_over_its_rate_gets_429_with_retry_after_and_every_request_is_logged(
    limited: StratoServer, tmp_path: Path
) -> None:
    answers = [status_of(f"{limited.edge_url}/no-such-bucket/key-{index}") for index in range(12)]
    statuses = [status for status, _ in answers]
    assert 429 in statuses
    assert statuses[0] != 429  # the burst lets the first ones through
    assert all(retry and int(retry) >= 1 for status, retry in answers if status == 429)
    log = tmp_path / "access.log"
    deadline = time.monotonic() + 10  # a line is written once its answer has left
    while log.read_text().count("/no-such-bucket/key-") < 12 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert log.read_text().count("/no-such-bucket/key-") == 12


def test_a_client_over_its_rate_is_refused_before_a_viewer_request_function_runs(limited: StratoServer) -> None:
    cloudfront = make_client(limited.url, "cloudfront")
    _, arn = new_function(cloudfront, ANSWERING)
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    create_distribution(cloudfront, alias, [http_origin("http://127.0.0.1:9", "web")], "web",
                        DefaultCacheBehavior={**behavior("web"), **associations(viewer_request=arn)})
    deadline = time.monotonic() + 10
    while get(f"{limited.edge_url}/", host=alias)[2] != b"from the function":  # the edge reads it within a second
        assert time.monotonic() < deadline, "the distribution never reached the edge"
        time.sleep(0.6)  # slower than the rate: no token is spent waiting
    time.sleep(1.5)  # the bucket fills again
    answers = [get(f"{limited.edge_url}/page-{index}", host=alias) for index in range(12)]
    statuses = [status for status, _, _ in answers]
    assert statuses[0] == 200
    assert 429 in statuses
    assert all(body == b"from the function" for status, _, body in answers if status == 200)
