"""Lambda API fixtures: a client that leaves validation to the server (the server's answers
are what these tests read), and an echo function that is gone after its test."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import make_client
from tests.e2e.lambda_helpers import ECHO, ROLE, RUNTIME
from tests.servers import StratoServer


@pytest.fixture(scope="module")
def lam(server: StratoServer) -> Any:
    """A client that leaves validation to the server."""
    return make_client(server.url, "lambda", parameter_validation=False)


@pytest.fixture
def function(lam: Any) -> Iterator[str]:
    name = f"fn-{uuid.uuid4().hex[:12]}"
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                        Code={"ZipFile": ECHO})
    yield name
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=name)
