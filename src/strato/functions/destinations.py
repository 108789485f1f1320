"""Destinations of asynchronous invocations: where an Event invocation's record goes once the
event is done (it succeeded, its retries ran out, or it grew too old to run).

A Lambda function destination gets the record as the payload of a new Event invocation, which
the queue takes in place of the finished event (so it survives a restart); an S3 bucket (on
failure only) gets it as a JSON object, written through the callable the composition root
injects, since this engine never imports the storage engine. SQS, SNS and EventBridge are not
strato's services: their records are logged and dropped, as is a record for a destination that
no longer exists.

Source: the Lambda developer guide, "Capturing records of Lambda asynchronous invocations".
"""

from __future__ import annotations

import datetime
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from strato import jsontext

from .arns import function_arn, split_function_name
from .errors import AccessDenied, InvalidParameter, NotFound
from .invoke_configs import EventInvokeConfig
from .ipc import Resolve
from .records import LATEST, MAX_EVENT_PAYLOAD, Invocation, InvokeResult

log = logging.getLogger("strato.functions.destinations")

SUCCESS = "Success"
RETRIES_EXHAUSTED = "RetriesExhausted"
EVENT_AGE_EXCEEDED = "EventAgeExceeded"

Configs = Callable[[str], Awaitable[EventInvokeConfig]]  # Registry.get_event_config: NotFound when none
PutRecord = Callable[[str, str, bytes], Awaitable[None]]  # (bucket, key, JSON); LookupError: no such bucket


@dataclass(frozen=True, slots=True)
class Ending:
    """How an Event invocation ended: its condition, how many times it ran, and its last
    result (None when it was dropped for age before it could run again)."""

    condition: str
    attempts: int
    result: InvokeResult | None


@dataclass(frozen=True, slots=True)
class Finished:
    """The event as the queue held it: what its record describes."""

    invoked_arn: str
    request_id: str
    payload: bytes


def _json(data: bytes) -> Any:
    """A payload as the record carries it: its JSON value, or its text when it is not JSON."""
    try:
        return jsontext.loads(data)
    except ValueError:  # not JSON, or nested too deeply for the parser (and for encoding the record)
        return data.decode("utf-8", "replace")


def timestamp(moment: datetime.datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, as the record's `timestamp` is written."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def qualified_arn(invoked_arn: str) -> str:
    """The record's `functionArn`: the ARN the caller invoked, `:$LATEST` when unqualified."""
    _, qualifier = split_function_name(invoked_arn)
    return invoked_arn if qualifier is not None else f"{invoked_arn}:{LATEST}"


def invocation_record(event: Finished, ending: Ending, moment: datetime.datetime) -> dict[str, Any]:
    """The invocation record (version 1.0); a result-less ending (EventAgeExceeded) has no
    responseContext and no responsePayload."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": timestamp(moment),
        "requestContext": {"requestId": event.request_id, "functionArn": qualified_arn(event.invoked_arn),
                           "condition": ending.condition, "approximateInvokeCount": ending.attempts},
        "requestPayload": _json(event.payload),
    }
    if ending.result is not None:
        context: dict[str, Any] = {"statusCode": 200, "executedVersion": ending.result.executed_version}
        if ending.result.function_error is not None:
            context["functionError"] = ending.result.function_error
        record["responseContext"] = context
        record["responsePayload"] = _json(ending.result.payload)
    return record


def encode_record(record: dict[str, Any], limit: int = MAX_EVENT_PAYLOAD) -> bytes:
    """The record's JSON within `limit` bytes: too large, it loses responsePayload, then
    requestPayload (Lambda drops "the payload" of a record its destination cannot take)."""
    encoded = json.dumps(record).encode()
    for field in ("responsePayload", "requestPayload"):
        if len(encoded) <= limit:
            break
        record = {key: value for key, value in record.items() if key != field}
        encoded = json.dumps(record).encode()
    return encoded


def record_key(function_name: str, moment: datetime.datetime, unique: str) -> str:
    """An S3 destination's object key: aws/lambda/async/NAME/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-UUID."""
    return f"aws/lambda/async/{function_name}/{moment:%Y/%m/%d}/{moment:%Y-%m-%dT%H.%M.%S}-{unique}"


def _service_and_resource(arn: str) -> tuple[str, str]:
    """An ARN's service and resource (`s3`, `BUCKET`); ("", "") for what is not an ARN."""
    parts = arn.split(":", 5)
    return (parts[2], parts[5]) if len(parts) == 6 and parts[0] == "arn" else ("", "")


class Destinations:
    """Routes each finished Event invocation's record to the destination its invoked
    qualifier's configuration names for its condition (OnSuccess or OnFailure)."""

    def __init__(self, configs: Configs, resolve: Resolve, put_record: PutRecord, region: str,
                 limit: int = MAX_EVENT_PAYLOAD) -> None:
        self.configs = configs
        self.resolve = resolve
        self.put_record = put_record
        self.region = region
        self.limit = limit

    async def follow_up(self, event: Finished, ending: Ending) -> Invocation | None:
        """The Event invocation of a destination function that carries the record, for the
        queue to take in the event's place; None when there is none to queue (no destination,
        or one that is not a function: an S3 record is written here). Never raises: a record
        that cannot be delivered is logged and dropped."""
        try:
            destination = await self._destination(event.invoked_arn, ending.condition)
            if destination is None:
                return None
            moment = datetime.datetime.now(datetime.UTC)
            record = encode_record(invocation_record(event, ending, moment), self.limit)
            service, resource = _service_and_resource(destination)
            if service == "lambda":
                return await self._function_invocation(destination, record)
            if service == "s3":
                await self._write(resource, event.invoked_arn, moment, record)
            else:
                log.warning("event %s: the record for %s is not delivered (strato has no %s)",
                            event.request_id, destination, service or "such service")
        except Exception:
            log.exception("event %s: its %s record could not be delivered; dropped", event.request_id,
                          ending.condition)
        return None

    async def _destination(self, invoked_arn: str, condition: str) -> str | None:
        try:
            config = await self.configs(invoked_arn)
        except NotFound:
            return None
        return config.on_success if condition == SUCCESS else config.on_failure

    async def _function_invocation(self, destination: str, record: bytes) -> Invocation | None:
        try:
            name, qualifier = split_function_name(destination, None, self.region)
            function = await self.resolve(name, qualifier or LATEST)
        except (NotFound, AccessDenied, InvalidParameter) as exc:
            log.warning("destination %s is not a function here (%s); its record is dropped", destination, exc)
            return None
        return Invocation(function, function_arn(self.region, name, qualifier), record, str(uuid.uuid4()))

    async def _write(self, bucket: str, invoked_arn: str, moment: datetime.datetime, record: bytes) -> None:
        name, _ = split_function_name(invoked_arn)
        try:
            await self.put_record(bucket, record_key(name, moment, str(uuid.uuid4())), record)
        except LookupError:
            log.warning("destination bucket %s does not exist; its record is dropped", bucket)
