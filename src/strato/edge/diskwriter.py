"""The edge cache's disk work, off the event loop: one thread writes the bodies received in
memory, appends the index records (edge/journal.py) and removes dropped bodies, in the order
the store asked for them, so a record always follows its body to disk and a drop always
follows the record it cancels. Each batch of work ends with one append to the index.

Until its file is written, a body is readable from `pending` (the store serves it from
there). At most `max_pending` bytes wait; beyond that `body` refuses and the response is
simply not stored, so a slow disk bounds memory rather than growing a queue.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
from typing import Any

from strato.edge.journal import Journal
from strato.fileio import write_all

log = logging.getLogger("strato.edge")
MAX_PENDING = 64 * 1024 * 1024

# ("body", name, path, bytes) | ("put", record, replaces) | ("drop", name, path or None)
# | ("rewrite", records) | ("stop",)
Op = tuple[Any, ...]


class DiskWriter:
    def __init__(self, journal: Journal, max_pending: int = MAX_PENDING) -> None:
        self.journal = journal
        self.max_pending = max_pending
        self.pending: dict[str, bytes] = {}
        self._pending_bytes = 0
        self._lock = threading.Lock()  # guards _pending_bytes (the loop adds, the thread subtracts)
        self._queue: queue.SimpleQueue[Op] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.compacting = False

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="edge-disk-writer", daemon=True)
            self._thread.start()

    def body(self, name: str, path: str, body: bytes) -> bool:
        """Write `body` as a new file at `path`; False (nothing queued) when too much waits."""
        with self._lock:
            if self._pending_bytes + len(body) > self.max_pending:
                return False
            self._pending_bytes += len(body)
        self.pending[name] = body
        self._queue.put(("body", name, path, body))
        return True

    def put(self, record: dict[str, Any], *, replaces: bool = False) -> None:
        self._queue.put(("put", record, replaces))

    def drop(self, name: str, path: str) -> None:
        """Remove a body and record its drop: at once when its file is written (a purge or an
        eviction frees the disk before the caller goes on), else after the pending write."""
        if name in self.pending:
            self._queue.put(("drop", name, path))
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        self._queue.put(("drop", name, None))

    def rewrite(self, records: list[dict[str, Any]]) -> None:
        """Compact the index to these records (the live ones now)."""
        self.compacting = True
        self._queue.put(("rewrite", records))

    def close(self) -> None:
        """Finish everything queued, then stop the thread."""
        if self._thread is not None:
            self._queue.put(("stop",))
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            with contextlib.suppress(queue.Empty):
                while len(batch) < 1024:
                    batch.append(self._queue.get_nowait())
            stop = False
            for op in batch:
                try:
                    stop = self._do(op) or stop
                except Exception:  # one failed write must not stop the others
                    log.exception("edge cache disk work failed: %s", op[0])
            try:
                self.journal.flush()
            except OSError:
                log.exception("edge cache index append failed")
            if stop:
                return

    def _do(self, op: Op) -> bool:
        kind: str = op[0]
        if kind == "body":
            _, name, path, body = op
            try:
                _write_file(path, body)
            finally:
                self.pending.pop(name, None)
                with self._lock:
                    self._pending_bytes -= len(body)
        elif kind == "put":
            self.journal.put(op[1], replaces=op[2])
        elif kind == "drop":
            if op[2] is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(op[2])
            self.journal.drop(op[1])
        elif kind == "rewrite":
            self.journal.rewrite(op[1])
            self.compacting = False
        return kind == "stop"


def _write_file(path: str, body: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        write_all(fd, body)
    finally:
        os.close(fd)
