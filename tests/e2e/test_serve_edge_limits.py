"""The serve edge's protection and logs come from the environment: a per-client rate limit
(STRATO_EDGE_RATE) and an access log (STRATO_EDGE_ACCESS_LOG)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.web import get
from tests.servers import StratoServer


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
