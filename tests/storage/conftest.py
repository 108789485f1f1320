"""Fixtures for engine tests: a real ObjectStore on a temporary data dir, one bucket in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from strato.storage.engine import ObjectStore
from tests.storage.support import BUCKET, run


@pytest.fixture
def store(data_dir: Path) -> Iterator[ObjectStore]:
    opened = ObjectStore(data_dir)
    run(opened.create_bucket(BUCKET, "us-east-1"))
    yield opened
    opened.close()
