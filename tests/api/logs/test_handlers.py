"""The operations' answers to what only a hand-made request carries."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from strato.api.logs.errors import LogsError
from strato.api.logs.handlers import Context, describe_log_groups
from strato.api.logs.params import Params, list_token


def test_a_list_token_naming_no_group_is_an_invalid_token(tmp_path: Path) -> None:
    with pytest.raises(LogsError) as caught:
        asyncio.run(describe_log_groups(Params({"nextToken": list_token([])}), Context(tmp_path, "us-east-1")))
    assert (caught.value.code, caught.value.message) == ("InvalidParameterException",
                                                         "The specified nextToken is invalid.")
