"""Log groups as CloudWatch Logs has them: a function's group (`/aws/lambda/NAME`, or the
LoggingConfig.LogGroup it names, which several may share) exists while its log does, and any
group may be made by CreateLogGroup (one no function writes to holds no events: strato takes no
PutLogEvents). A group's settings (retention, class, KMS key, tags) live in the
functions registry (functions/log_groups.py); a deleted group's events are gone for good, and
so are events older than its retention, whatever the log files still hold.

https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/ (each operation's page)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from strato.functions.log_events import GroupSummary, group_summary
from strato.functions.log_groups import LogGroup, LogGroupTables

from .errors import LogsError, invalid_parameter, no_such_group
from .params import GROUP_NAME, MAX_TAGS, Params, group_of_arn

DAY_MS = 86_400_000
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)
LOG_CLASSES = ("STANDARD", "INFREQUENT_ACCESS", "DELIVERY", "ESSENTIALS")  # botocore's LogGroupClass


@dataclass(frozen=True, slots=True)
class Context:
    logs_dir: Path
    region: str
    groups: LogGroupTables


Handler = Callable[[Params, Context], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Group:
    """A log group that exists: its settings (None: a function's group given none), the summary
    of the log it holds (None: none, or nothing written since the group was last deleted), and
    the time (ms) before which its events are gone."""

    name: str
    settings: LogGroup | None
    summary: GroupSummary | None
    deleted: int  # ms: when it was last deleted (0: never)

    @property
    def since(self) -> int:
        retention = None if self.settings is None else self.settings.retention_days
        return self.deleted if retention is None else max(self.deleted, now_ms() - retention * DAY_MS)

    @property
    def created(self) -> int:
        if self.settings is not None:
            return self.settings.created
        assert self.summary is not None
        return max(self.summary.created, self.since)

    @property
    def log_class(self) -> str:
        return "STANDARD" if self.settings is None else self.settings.log_class

    @property
    def tags(self) -> dict[str, str]:
        return {} if self.settings is None else self.settings.tags


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def group_view(name: str, settings: LogGroup | None, deleted: int, summary: GroupSummary | None) -> Group | None:
    """The group, if it exists: it has settings, or its function wrote since it was deleted."""
    if summary is not None and summary.updated < deleted:
        summary = None
    if settings is None and summary is None:
        return None
    return Group(name, settings, summary, deleted)


async def lookup_group(context: Context, name: str) -> Group | None:
    settings, deleted = await context.groups.log_group(name)
    summary = await asyncio.to_thread(group_summary, context.logs_dir, name)
    return group_view(name, settings, deleted, summary)


async def find_group(context: Context, name: str) -> Group:
    """The group; ResourceNotFoundException when it does not exist."""
    group = await lookup_group(context, name)
    if group is None:
        raise no_such_group()
    return group


async def change_settings(context: Context, group: Group, change: Callable[[LogGroup], LogGroup]) -> None:
    """Change the settings of an existing group (a function's group without any gets them now)."""
    def changed(old: LogGroup | None, deleted: int) -> LogGroup:
        if old is None and (group.settings is not None or deleted != group.deleted):
            raise no_such_group()  # deleted since it was found: a change must not bring it back
        return change(old or LogGroup(group.name, group.created))

    await context.groups.change_log_group(group.name, changed)


async def _change(context: Context, name: str, change: Callable[[LogGroup], LogGroup]) -> dict[str, Any]:
    """An operation that changes the settings of the group named, which must exist."""
    await change_settings(context, await find_group(context, name), change)
    return {}


async def create_log_group(params: Params, context: Context) -> dict[str, Any]:
    name = params.text("logGroupName", required=True)
    assert name is not None
    if not GROUP_NAME.fullmatch(name):
        raise invalid_parameter(f"1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy "
                                "constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+")
    if name.startswith("aws/"):
        raise invalid_parameter("Log groups starting with AWS/ are reserved for AWS.")
    log_class = params.choice("logGroupClass", LOG_CLASSES) or "STANDARD"
    kms_key_id = params.text("kmsKeyId", high=256)
    tags = params.tags("tags", required=False) or {}
    protected = params.flag("deletionProtectionEnabled")
    if await lookup_group(context, name) is not None:
        raise _already_exists()

    def made(old: LogGroup | None, _deleted: int) -> LogGroup:
        if old is not None:  # made meanwhile by another request
            raise _already_exists()
        return LogGroup(name, now_ms(), None, log_class, kms_key_id, tags, protected)

    await context.groups.change_log_group(name, made)
    return {}


def _already_exists() -> LogsError:
    return LogsError("ResourceAlreadyExistsException", "The specified log group already exists")


async def delete_log_group(params: Params, context: Context) -> dict[str, Any]:
    group = await find_group(context, _named(params))
    if not await context.groups.delete_log_group(group.name, now_ms()):
        raise LogsError("ValidationException", "Cannot delete log group with deletion protection enabled. "
                                               "Disable deletion protection first.")
    return {}


async def put_log_group_deletion_protection(params: Params, context: Context) -> dict[str, Any]:
    identifier = params.text("logGroupIdentifier", required=True, high=2048)
    assert identifier is not None
    protected = params.flag("deletionProtectionEnabled", required=True)
    return await _change(context, group_of_arn(identifier),
                         lambda settings: replace(settings, deletion_protection=protected))


def _named(params: Params) -> str:
    name = params.text("logGroupName", required=True)
    assert name is not None
    return name


async def put_retention_policy(params: Params, context: Context) -> dict[str, Any]:
    days = params.number("retentionInDays", required=True)
    if days not in RETENTION_DAYS:
        raise invalid_parameter(f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy "
                                f"constraint: Member must satisfy enum value set: {list(RETENTION_DAYS)}")
    return await _change(context, _named(params), lambda settings: replace(settings, retention_days=days))


async def delete_retention_policy(params: Params, context: Context) -> dict[str, Any]:
    return await _change(context, _named(params), lambda settings: replace(settings, retention_days=None))


def _arn_group(params: Params) -> str:
    arn = params.text("resourceArn", required=True, high=1011)
    assert arn is not None
    if not arn.startswith("arn:"):
        raise invalid_parameter(f"Invalid resource ARN: {arn}")
    return group_of_arn(arn)


def _adding(params: Params, too_many: str) -> Callable[[LogGroup], LogGroup]:
    """The change that adds the request's `tags` to a group's; more than MAX_TAGS in all is the
    error `too_many` (each operation's model names its own)."""
    tags = params.tags("tags") or {}

    def tagged(settings: LogGroup) -> LogGroup:
        merged = {**settings.tags, **tags}
        if len(merged) > MAX_TAGS:
            raise LogsError(too_many, f"A resource can have no more than {MAX_TAGS} tags.")
        return replace(settings, tags=merged)

    return tagged


def _removing(keys: list[str]) -> Callable[[LogGroup], LogGroup]:
    return lambda settings: replace(settings, tags={key: value for key, value in settings.tags.items()
                                                    if key not in keys})


async def tag_resource(params: Params, context: Context) -> dict[str, Any]:
    return await _change(context, _arn_group(params), _adding(params, "TooManyTagsException"))


async def untag_resource(params: Params, context: Context) -> dict[str, Any]:
    return await _change(context, _arn_group(params), _removing(params.texts("tagKeys", MAX_TAGS, low=0) or []))


async def list_tags_for_resource(params: Params, context: Context) -> dict[str, Any]:
    return {"tags": (await find_group(context, _arn_group(params))).tags}


async def tag_log_group(params: Params, context: Context) -> dict[str, Any]:
    """TagResource's deprecated forms (these three), by the group's name."""
    return await _change(context, _named(params), _adding(params, "InvalidParameterException"))


async def untag_log_group(params: Params, context: Context) -> dict[str, Any]:
    return await _change(context, _named(params), _removing(params.texts("tags", MAX_TAGS) or []))


async def list_tags_log_group(params: Params, context: Context) -> dict[str, Any]:
    return {"tags": (await find_group(context, _named(params))).tags}


GROUP_HANDLERS: dict[str, Handler] = {
    "CreateLogGroup": create_log_group,
    "DeleteLogGroup": delete_log_group,
    "PutLogGroupDeletionProtection": put_log_group_deletion_protection,
    "PutRetentionPolicy": put_retention_policy,
    "DeleteRetentionPolicy": delete_retention_policy,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
    "TagLogGroup": tag_log_group,
    "UntagLogGroup": untag_log_group,
    "ListTagsLogGroup": list_tags_log_group,
}
