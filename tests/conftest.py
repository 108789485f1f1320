"""Shared fixtures: one real strato server per test worker, real boto3 clients."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.servers import ACCESS_KEY, REGION, SECRET_KEY, StratoServer


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StratoServer]:
    running = StratoServer(tmp_path_factory.mktemp("strato-data")).start()
    yield running
    running.stop()


def make_client(url: str, service: str = "s3", *, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY,
                **config: Any) -> Any:
    """A boto3 client of `service` at `url`, signing with the root keys unless told others;
    `config` is botocore's Config (none given: boto3's defaults)."""
    return boto3.client(
        service, endpoint_url=url, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
        region_name=REGION, config=Config(**config) if config else None,
    )


@pytest.fixture(scope="session")
def s3(server: StratoServer) -> Any:
    """boto3's S3 client with its default settings."""
    return make_client(server.url)


@pytest.fixture(scope="session")
def lam(server: StratoServer) -> Any:
    """boto3's Lambda client with its default settings."""
    return make_client(server.url, "lambda")


@pytest.fixture(scope="session")
def cloudfront(server: StratoServer) -> Any:
    """boto3's CloudFront client."""
    return make_client(server.url, "cloudfront")


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"test-{uuid.uuid4().hex[:20]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
