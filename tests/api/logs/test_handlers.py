"""The operations' answers to what only a hand-made request carries."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from strato.api.logs.errors import LogsError
from strato.api.logs.groups import Context
from strato.api.logs.handlers import describe_log_groups
from strato.api.logs.params import Params, list_token
from strato.functions import log_records
from strato.functions.log_groups import LogGroupTables
from strato.functions.logs import LogFiles


def context_of(logs_dir: Path) -> Context:
    return Context(logs_dir, "us-east-1", LogGroupTables(logs_dir.parent / "functions.db", "us-east-1"))


def test_a_list_token_naming_no_group_is_an_invalid_token(tmp_path: Path) -> None:
    with pytest.raises(LogsError) as caught:
        asyncio.run(describe_log_groups(Params({"nextToken": list_token([])}), context_of(tmp_path / "logs")))
    assert (caught.value.code, caught.value.message) == ("InvalidParameterException",
                                                         "The specified nextToken is invalid.")


def with_logs(logs_dir: Path, *names: str) -> Context:
    """A logs directory where each named function has written one line."""
    files = LogFiles(logs_dir)
    for name in names:
        files.write(f"/aws/lambda/{name}", log_records.encode("stream", [(1000, True, b"hello\n")], b"hello\n"))
    files.close()
    return context_of(logs_dir)


def group_names(document: dict[str, object], context: Context) -> list[str]:
    answer = asyncio.run(describe_log_groups(Params(document), context))
    return [group["logGroupName"] for group in answer["logGroups"]]


def test_log_group_identifiers_list_only_the_groups_they_name(tmp_path: Path) -> None:
    context = with_logs(tmp_path / "logs", "one", "two", "three")
    arn = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/three:*"
    found = group_names({"logGroupIdentifiers": ["/aws/lambda/one", arn, "/aws/lambda/missing"]}, context)
    assert found == ["/aws/lambda/one", "/aws/lambda/three"]


def test_log_group_identifiers_with_a_name_prefix_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LogsError) as caught:
        group_names({"logGroupIdentifiers": ["/aws/lambda/one"], "logGroupNamePrefix": "/aws/"},
                    with_logs(tmp_path / "logs", "one"))
    assert caught.value.code == "InvalidParameterException"


def test_a_functions_group_without_settings_is_of_the_standard_class(tmp_path: Path) -> None:
    context = with_logs(tmp_path / "logs", "one")
    assert group_names({"logGroupClass": "STANDARD"}, context) == ["/aws/lambda/one"]
    assert group_names({"logGroupClass": "INFREQUENT_ACCESS"}, context) == []
