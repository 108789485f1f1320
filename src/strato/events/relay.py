"""The one relay from S3 object changes to Lambda: it runs in the functions controller, reads the
changes the storage engine recorded (in the transaction of each object write, for buckets with a
notification configuration), queues an Event invocation for each configuration a change matches,
and only then forgets the change. Delivery is at least once: a change whose invocations were
queued when the server died is relayed again; none is lost. Retries, the event age limit and
destinations are the Event queue's, as for any Event invocation.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from strato.functions.errors import RegistryError
from strato.functions.records import FunctionVersion, Invocation
from strato.storage.engine import ObjectStore
from strato.storage.errors import NoSuchBucket
from strato.storage.records import Change

from .s3_notifications import LambdaTarget, event_name, from_document, message

log = logging.getLogger("strato.events")

POLL = 0.05  # seconds between looks at an empty change table: an indexed read of no rows
RETRY = 1.0  # seconds before changes that could not be relayed are tried again


@dataclass(slots=True)
class _Batch:
    """What one batch of changes has read: each bucket's configurations and region (None: the
    bucket is gone), and whether S3 may invoke each (function ARN, bucket)."""

    buckets: dict[str, tuple[list[LambdaTarget], str] | None] = field(default_factory=dict)
    allowed: dict[tuple[str, str], bool] = field(default_factory=dict)


class NotificationRelay:
    def __init__(self, store: ObjectStore, resolve: Callable[[str], Awaitable[FunctionVersion]],
                 may_invoke: Callable[[str, str], Awaitable[bool]],
                 enqueue: Callable[[Invocation], Awaitable[None]], wake: Callable[[], None]) -> None:
        """`resolve`: a function ARN to the version an invocation runs; `may_invoke`: whether the
        function's policy lets S3 invoke it for a bucket now; `enqueue`: the Event queue's put;
        `wake`: tells the Event dispatcher something was queued."""
        self.store = store
        self.resolve = resolve
        self.may_invoke = may_invoke
        self.enqueue = enqueue
        self.wake = wake

    async def serve(self) -> None:
        while True:
            try:
                relayed = await self.relay_pending()
            except Exception:  # the queue's disk is full, say: the changes stay recorded, tried again
                log.exception("S3 event notifications could not be queued; trying again in %s s", RETRY)
                await asyncio.sleep(RETRY)
                continue
            if not relayed:
                await asyncio.sleep(POLL)

    async def relay_pending(self) -> int:
        """Relay the oldest recorded changes, then forget them; how many there were. A batch reads
        each bucket's configuration and each function's permission once (as they are now)."""
        changes = self.store.changes()
        batch = _Batch()
        for change in changes:
            await self._relay(change, batch)
        if changes:
            await self.store.forget_changes([change.id for change in changes])
            self.wake()
        return len(changes)

    async def _relay(self, change: Change, batch: _Batch) -> None:
        """An Event invocation for each configuration of the bucket that wants the change (the
        configuration as it is now: one removed meanwhile is told nothing) whose function S3 may
        still invoke: as on AWS, a permission removed since the configuration was put stops the
        events. awsRegion is the bucket's."""
        if change.bucket not in batch.buckets:
            try:
                batch.buckets[change.bucket] = (from_document(self.store.bucket_notification(change.bucket)),
                                                self.store.get_bucket(change.bucket).region)
            except NoSuchBucket:
                batch.buckets[change.bucket] = None
        found = batch.buckets[change.bucket]
        if found is None:
            return
        targets, region = found
        name = event_name(change)
        for target in targets:
            if not target.wants(name, change.key):
                continue
            pair = (target.function_arn, change.bucket)
            if pair not in batch.allowed:
                batch.allowed[pair] = await self.may_invoke(*pair)
            if not batch.allowed[pair]:
                log.warning("s3 event for %s/%s: %s is gone or lets S3 invoke it no more",
                            change.bucket, change.key, target.function_arn)
                continue
            try:
                function = await self.resolve(target.function_arn)
            except RegistryError as exc:
                log.warning("s3 event for %s/%s: %s is gone: %s", change.bucket, change.key, target.function_arn, exc)
                continue
            payload = json.dumps(message(change, target, region)).encode()
            await self.enqueue(Invocation(function, target.function_arn, payload, str(uuid.uuid4())))
