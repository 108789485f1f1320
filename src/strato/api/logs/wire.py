"""The JSON shapes of CloudWatch Logs' answers, from strato's log summaries and events, in one
place (botocore's model: LogGroup, LogStream, OutputLogEvent, FilteredLogEvent)."""

from __future__ import annotations

from typing import Any

from strato.functions.log_events import LogEvent, StreamSummary

from .groups import Group
from .params import group_arn


def log_group(region: str, group: Group, *, full: bool = True) -> dict[str, Any]:
    """As AWS answered in 2026 (LocalStack's test_logs_groups snapshot); without `full` (a
    logGroupNamePattern search) AWS leaves out storedBytes and deletionProtectionEnabled."""
    arn = group_arn(region, group.name)
    answer: dict[str, Any] = {"logGroupName": group.name, "creationTime": group.created, "metricFilterCount": 0,
                              "arn": f"{arn}:*", "logGroupClass": group.log_class, "logGroupArn": arn}
    settings = group.settings
    if settings is not None and settings.retention_days is not None:
        answer["retentionInDays"] = settings.retention_days
    if settings is not None and settings.kms_key_id is not None:
        answer["kmsKeyId"] = settings.kms_key_id
    if full:
        stored = 0 if group.summary is None else group.summary.stored_bytes
        protected = settings is not None and settings.deletion_protection
        answer.update(storedBytes=stored, deletionProtectionEnabled=protected)
    return answer


def log_stream(region: str, group: str, stream: StreamSummary) -> dict[str, Any]:
    """storedBytes is 0, as AWS has answered since June 2019."""
    return {"logStreamName": stream.name, "creationTime": stream.first, "firstEventTimestamp": stream.first,
            "lastEventTimestamp": stream.last, "lastIngestionTime": stream.last,
            "arn": f"{group_arn(region, group)}:log-stream:{stream.name}", "storedBytes": 0}


def output_event(event: LogEvent) -> dict[str, Any]:
    return {"timestamp": event.timestamp, "message": event.message, "ingestionTime": event.timestamp}


def filtered_event(event: LogEvent) -> dict[str, Any]:
    generation, offset, index = event.key
    return {"logStreamName": event.stream, "timestamp": event.timestamp, "message": event.message,
            "ingestionTime": event.timestamp, "eventId": f"{generation:020d}{offset:020d}{index:016d}"}
