"""The CloudWatch Logs operations strato answers, over function logs (functions/log_events.py).
Each reads its function's log once, off the event loop, keeping at most one page.

https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/ (each operation's page)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from strato.functions.log_events import (
    GroupLogReader,
    LogEvent,
    Selection,
    StreamSummary,
    backward_page,
    forward_page,
    group_summaries,
    stream_summaries,
)

from . import wire
from .errors import bad_token, invalid_parameter, no_such_stream
from .groups import GROUP_HANDLERS, LOG_CLASSES, Context, Group, Handler, find_group, group_view
from .params import (
    Params,
    event_token,
    group_of_arn,
    list_token,
    parse_event_token,
    parse_list_token,
)
from .patterns import compile_pattern

MAX_EVENTS = 10_000  # a page of events, at most, by count
MAX_PAGE_BYTES = 1024 * 1024  # and by size (each event's message and 26 bytes)
MAX_DESCRIBE = 50


@contextlib.contextmanager
def _reader(context: Context, group: Group) -> Iterator[GroupLogReader | None]:
    """The log the group holds, open (None: it holds none)."""
    if group.summary is None:
        yield None
        return
    with GroupLogReader(context.logs_dir, group.name) as reader:
        yield reader if reader.exists else None


def _since(start: int | None, group: Group) -> int | None:
    """A read's start: none of the group's gone events (deleted, or past its retention)."""
    return max(start or 0, group.since) or None


async def describe_log_groups(params: Params, context: Context) -> dict[str, Any]:
    """logGroupNamePattern is a case-sensitive substring of the name; with it AWS leaves
    storedBytes and deletionProtectionEnabled out of each group (test_logs_groups snapshot).
    logGroupIdentifiers (names or ARNs) lists only the groups it names, and no other filter
    goes with it. logGroupClass lists the groups of that class alone (a function's group is
    STANDARD unless it was made otherwise)."""
    prefix = params.text("logGroupNamePrefix")
    pattern = params.text("logGroupNamePattern", low=0)
    identifiers = params.texts("logGroupIdentifiers", 50)
    if prefix is not None and pattern is not None:
        raise invalid_parameter("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
    if identifiers is not None and (prefix is not None or pattern is not None):
        raise invalid_parameter("logGroupIdentifiers cannot be combined with logGroupNamePrefix or "
                                "logGroupNamePattern.")
    named = None if identifiers is None else {group_of_arn(identifier) for identifier in identifiers}
    log_class = params.choice("logGroupClass", LOG_CLASSES)
    limit = params.number("limit", 1, MAX_DESCRIBE) or MAX_DESCRIBE
    token = params.text("nextToken", high=4096)
    found = parse_list_token(token) if token is not None else [None]
    if not found:
        raise bad_token()
    after = found[0]
    if after is not None and not isinstance(after, str):
        raise bad_token()

    def wanted(group: str) -> bool:
        return (group.startswith(prefix or "") and (pattern or "") in group
                and (named is None or group in named))

    settings, deletions = await context.groups.log_groups()
    by_name = {group.name: group for group in settings}
    summaries = {summary.group: summary for summary in await asyncio.to_thread(group_summaries, context.logs_dir)}
    groups = [group for group in (group_view(name, by_name.get(name), deletions.get(name, 0), summaries.get(name))
                                  for name in sorted(by_name.keys() | summaries.keys())
                                  if wanted(name) and (after is None or name > after))
              if group is not None and log_class in (None, group.log_class)]
    answer: dict[str, Any] = {"logGroups": [wire.log_group(context.region, group, full=pattern is None)
                                            for group in groups[:limit]]}
    if len(groups) > limit:
        answer["nextToken"] = list_token([groups[limit - 1].name])
    return answer


async def describe_log_streams(params: Params, context: Context) -> dict[str, Any]:
    name = params.group_name()
    prefix = params.text("logStreamNamePrefix")
    order = params.document.get("orderBy", "LogStreamName")
    if order not in ("LogStreamName", "LastEventTime"):
        raise invalid_parameter("orderBy must be LogStreamName or LastEventTime.")
    if order == "LastEventTime" and prefix is not None:
        raise invalid_parameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
    descending = params.flag("descending")
    limit = params.number("limit", 1, MAX_DESCRIBE) or MAX_DESCRIBE
    token = params.text("nextToken", high=4096)
    after = parse_list_token(token) if token is not None else None

    def sort_key(stream: StreamSummary) -> list[Any]:
        return [stream.last, stream.name] if order == "LastEventTime" else [stream.name]

    group = await find_group(context, name)
    since = group.since

    def read() -> list[StreamSummary]:
        with _reader(context, group) as reader:
            if reader is None:
                return []
            return [_since_gone(reader, stream, since) for stream in stream_summaries(reader)
                    if (prefix is None or stream.name.startswith(prefix)) and stream.last >= since]

    streams = await asyncio.to_thread(read)
    streams.sort(key=sort_key, reverse=descending)
    if after is not None:
        try:
            streams = [stream for stream in streams if (sort_key(stream) < after if descending
                                                        else sort_key(stream) > after)]
        except TypeError:
            raise bad_token() from None
    answer: dict[str, Any] = {"logStreams": [wire.log_stream(context.region, name, stream)
                                             for stream in streams[:limit]]}
    if len(streams) > limit:
        answer["nextToken"] = list_token(sort_key(streams[limit - 1]))
    return answer


def _since_gone(reader: GroupLogReader, stream: StreamSummary, since: int) -> StreamSummary:
    """A stream that held events now gone (its group deleted, or past its retention) begins with
    its first event still read back, as the stream Lambda makes again after a deletion does."""
    if stream.first >= since:
        return stream
    selection = Selection(streams=lambda found: found == stream.name, start=since)
    events, _ = forward_page(reader, selection, None, 1, MAX_PAGE_BYTES)
    return replace(stream, first=events[0].timestamp) if events else stream


async def get_log_events(params: Params, context: Context) -> dict[str, Any]:
    """Forward and backward tokens as AWS gives them: an empty page hands back the token it was
    asked with, which is how clients know they have read everything."""
    name = params.group_name()
    stream = params.text("logStreamName", required=True)
    start = params.number("startTime", 0)
    end = params.number("endTime", 0)
    limit = params.number("limit", 1, MAX_EVENTS) or MAX_EVENTS
    from_head = params.flag("startFromHead")
    token = params.text("nextToken", high=4096)
    parsed = parse_event_token(token, "fb") if token is not None else None
    group = await find_group(context, name)
    selection = Selection(streams=lambda found: found == stream, start=_since(start, group), end=end)

    def read() -> tuple[list[LogEvent], str, str]:
        with _reader(context, group) as reader:
            if reader is None:
                raise no_such_stream()
            if parsed is None:
                if from_head:
                    events, _ = forward_page(reader, selection, None, limit, MAX_PAGE_BYTES)
                else:
                    events = backward_page(reader, selection, None, limit, MAX_PAGE_BYTES)
                forward = backward = reader.end()
            elif parsed[0] == "f":
                events, _ = forward_page(reader, selection, parsed[1], limit, MAX_PAGE_BYTES)
                forward, (g, o, i) = parsed[1], parsed[1]
                backward = (g, o, i + 1)
            else:
                events = backward_page(reader, selection, parsed[1], limit, MAX_PAGE_BYTES)
                backward, (g, o, i) = parsed[1], parsed[1]
                forward = (g, o, i - 1)
            if events:
                forward, backward = events[-1].key, events[0].key
            elif not any(record.pieces and record.stream == stream for record in reader.heads()):
                raise no_such_stream()
            return events, event_token("f", forward), event_token("b", backward)

    events, forward_token, backward_token = await asyncio.to_thread(read)
    return {"events": [wire.output_event(event) for event in events], "nextForwardToken": forward_token,
            "nextBackwardToken": backward_token}


async def filter_log_events(params: Params, context: Context) -> dict[str, Any]:
    name = params.group_name()
    names = params.texts("logStreamNames", 100)
    prefix = params.text("logStreamNamePrefix")
    if names is not None and prefix is not None:
        raise invalid_parameter("logStreamNames and logStreamNamePrefix are mutually exclusive.")
    start = params.number("startTime", 0)
    end = params.number("endTime", 0)
    pattern = params.text("filterPattern", low=0, high=1024)
    limit = params.number("limit", 1, MAX_EVENTS) or MAX_EVENTS
    token = params.text("nextToken", high=4096)
    after = parse_event_token(token, "n")[1] if token is not None else None
    wanted = set(names) if names is not None else None

    def streams(found: str) -> bool:
        return (wanted is None or found in wanted) and (prefix is None or found.startswith(prefix))

    matches = compile_pattern(pattern or "")
    group = await find_group(context, name)
    selection = Selection(streams=streams, start=_since(start, group), end=None if end is None else end + 1,
                          matches=matches)

    def read() -> tuple[list[LogEvent], bool]:
        with _reader(context, group) as reader:
            return ([], False) if reader is None else forward_page(reader, selection, after, limit, MAX_PAGE_BYTES)

    events, more = await asyncio.to_thread(read)
    # Empty, as CloudWatch Logs has answered it since May 2020 (the field is no longer supported).
    answer: dict[str, Any] = {"events": [wire.filtered_event(event) for event in events], "searchedLogStreams": []}
    if more:
        answer["nextToken"] = event_token("n", events[-1].key)
    return answer


HANDLERS: dict[str, Handler] = {
    "DescribeLogGroups": describe_log_groups,
    "DescribeLogStreams": describe_log_streams,
    "GetLogEvents": get_log_events,
    "FilterLogEvents": filter_log_events,
    **GROUP_HANDLERS,
}
