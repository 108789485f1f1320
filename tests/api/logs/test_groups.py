"""Which log groups exist and which of their events are gone: a group exists while it has
settings or its function wrote since it was last deleted; a retention hides older events."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from strato.api.logs.errors import LogsError
from strato.api.logs.groups import DAY_MS, Context, change_settings, find_group, group_view, lookup_group, now_ms
from strato.functions import log_records
from strato.functions.log_events import GroupSummary
from strato.functions.log_groups import LogGroup, LogGroupTables
from strato.functions.logs import LogFiles

NAME = "/aws/lambda/fn"


def test_a_functions_group_exists_while_its_log_was_written_since_its_deletion() -> None:
    summary = GroupSummary(NAME, created=1_000, stored_bytes=10, updated=5_000)
    group = group_view(NAME, None, 0, summary)
    assert group is not None
    assert (group.created, group.since, group.log_class, group.tags) == (1_000, 0, "STANDARD", {})
    assert group_view(NAME, None, 6_000, summary) is None
    again = group_view(NAME, None, 4_000, summary)
    assert again is not None
    assert (again.created, again.since) == (4_000, 4_000)  # remade by the writes after its deletion


def test_a_group_with_settings_exists_without_a_log() -> None:
    group = group_view("/team/app", LogGroup("/team/app", 42, tags={"a": "b"}), 0, None)
    assert group is not None
    assert (group.summary, group.created, group.tags) == (None, 42, {"a": "b"})
    assert group_view("/team/app", None, 0, None) is None


def test_a_retention_hides_events_older_than_it() -> None:
    before = now_ms()
    group = group_view(NAME, LogGroup(NAME, 1, retention_days=3), 7, None)
    assert group is not None
    assert before - 3 * DAY_MS <= group.since <= now_ms() - 3 * DAY_MS


def test_a_change_racing_a_deletion_does_not_bring_the_group_back(tmp_path: Path) -> None:
    """A tag or retention change that found the group just before it was deleted is refused,
    not stored as settings that would make the group exist again."""
    logs_dir = tmp_path / "logs"
    files = LogFiles(logs_dir)
    files.write(NAME, log_records.encode("stream", [(1000, True, b"hello\n")], b"hello\n"))
    files.close()
    context = Context(logs_dir, "us-east-1", LogGroupTables(tmp_path / "functions.db", "us-east-1"))

    async def race() -> None:
        found = await find_group(context, NAME)
        await context.groups.delete_log_group(NAME, now_ms() + 1)
        with pytest.raises(LogsError) as caught:
            await change_settings(context, found, lambda settings: replace(settings, retention_days=7))
        assert caught.value.code == "ResourceNotFoundException"
        assert await lookup_group(context, NAME) is None

    asyncio.run(race())
