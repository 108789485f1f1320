"""The edge cache's disk work, off the event loop: one thread writes the bodies received in
memory (a large one as a file of its own, a small one at its place in a slab, edge/slabs.py),
copies the live bodies of a slab being reclaimed into the open one, appends the index records
(edge/journal.py) and removes dropped bodies and slabs, in the order the store asked for them,
so a record always follows its body to disk, a drop always follows the record it cancels and a
slab goes only after the copies out of it. Each batch of work ends with one append to the
index, and the slab bodies of a batch that follow one another in one slab are written with one
pwritev. Each finished copy is reported in `moved` (name, slab, offset), so the store reads the
body at its old place until then. A slab whose removal finds the index unable to take the
records of its bodies' new places (a full disk) is kept, its bytes in `kept_bytes`, until an
append succeeds (or, records given up, a compaction): the index names its bodies' old places
until then.

Until its file is written, a body is readable from `pending` (the store serves it from
there). A body of its own whose write fails (a full disk) is removed before it leaves `pending`
and its records are not appended: its entry's hits find no file and go to the origin, and the
fill that answers replaces it. At most `max_pending` bytes wait; beyond that `body` refuses and the response is
simply not stored, so a slow disk bounds memory rather than growing a queue.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from strato.edge.entry import RECORD_NAME, Record
from strato.edge.journal import Journal
from strato.fileio import write_all

log = logging.getLogger("strato.edge")
MAX_PENDING = 64 * 1024 * 1024

# ("body", name, path, offset or None for a file of its own, bytes) | ("put", record, replaces)
# | ("copy", name, source path, source offset, size, crc, target path, target slab, target offset)
# | ("drop", name, path or None) | ("unlink", path) | ("rewrite", records) | ("barrier", future) | ("stop",)
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
        self.moved: deque[tuple[str, int, int]] = deque()  # copies done: name, slab, offset
        self._slab: tuple[str, int] | None = None  # the slab being appended to: path, descriptor
        self._source: tuple[str, int] | None = None  # the slab being copied from: path, descriptor
        self._kept: dict[str, int] = {}  # slabs to remove once the index is appended to: path, length
        self.kept_bytes = 0  # their lengths (the thread writes it, the store reads it)
        self._unwritten: set[str] = set()  # bodies of their own whose write failed: never recorded

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="edge-disk-writer", daemon=True)
            self._thread.start()

    def body(self, name: str, path: str, body: bytes, offset: int | None = None) -> bool:
        """Write `body` as a new file at `path`, or at `offset` in the slab file at `path`;
        False (nothing queued) when too much waits."""
        with self._lock:
            if self._pending_bytes + len(body) > self.max_pending:
                return False
            self._pending_bytes += len(body)
        self.pending[name] = body
        self._queue.put(("body", name, path, offset, body))
        return True

    def room(self, size: int) -> bool:
        """Whether `body` would take a body of `size` bytes now (only the event loop adds to
        what waits, so the answer holds until it does)."""
        return self._pending_bytes + size <= self.max_pending

    def put(self, record: Record, *, replaces: bool = False) -> None:
        self._queue.put(("put", record, replaces))

    def copy(self, name: str, source: tuple[str, int], size: int, crc: int, target: tuple[str, int, int]) -> None:
        """Copy a slab body, `size` bytes at (path, offset) `source`, to (path, slab, offset)
        `target`, if its CRC-32 is `crc`; reported in `moved` once done (or failed)."""
        self._queue.put(("copy", name, *source, size, crc, *target))

    def drop(self, name: str, path: str | None) -> None:
        """Record a body's drop, and remove its file (`path`, None for a body in a slab): at once
        when it is written (a purge or an eviction frees the disk before the caller goes on),
        else after the pending write."""
        if name in self.pending:
            self._queue.put(("drop", name, path))
            return
        if path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self._queue.put(("drop", name, None))

    def unlink(self, path: str) -> None:
        """Remove a slab file, once what is queued before (its bodies) is done and the index
        holds the records queued before (its bodies' new places); kept until then."""
        self._queue.put(("unlink", path))

    def rewrite(self, records: list[Record]) -> None:
        """Compact the index to these records (the live ones now)."""
        self.compacting = True
        self._queue.put(("rewrite", records))

    def barrier(self) -> Future[None]:
        """Done once everything queued before it is done and its records are appended to the
        index (or the append failed: they stay buffered)."""
        done: Future[None] = Future()
        if self._thread is None:
            done.set_result(None)
        else:
            self._queue.put(("barrier", done))
        return done

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
            barriers: list[Future[None]] = []
            run: list[Op] = []  # slab bodies that follow one another in one slab, written together
            for op in batch:
                if op[0] == "body" and op[3] is not None:
                    if run and (run[-1][2] != op[2] or run[-1][3] + len(run[-1][4]) != op[3]):
                        self._guarded(self._write_slab, run)
                        run = []
                    run.append(op)
                elif op[0] == "barrier":
                    barriers.append(op[1])
                elif op[0] == "put" or (op[0] == "drop" and op[2] is None):
                    self._guarded(self._do, op)  # only buffered until the batch ends, after its bodies
                else:
                    if run:
                        self._guarded(self._write_slab, run)
                        run = []
                    stop = self._guarded(self._do, op) or stop
            if run:
                self._guarded(self._write_slab, run)
            try:
                self._settle()
            except Exception:  # the writer thread must live on: the records stay buffered, the slabs kept
                log.exception("edge cache index append or slab removal failed")
            for barrier in barriers:
                barrier.set_result(None)
            if stop:
                return

    @staticmethod
    def _guarded(work: Callable[[Any], bool | None], arg: Any) -> bool:
        try:
            return bool(work(arg))
        except Exception:  # one failed write must not stop the others
            log.exception("edge cache disk work failed: %s", work.__name__)
            return False

    def _written(self, name: str, body: bytes) -> None:
        self.pending.pop(name, None)
        with self._lock:
            self._pending_bytes -= len(body)

    def _write_slab(self, run: list[Op]) -> None:
        """Bodies placed one after another in one slab, in one write (more if it is short)."""
        try:
            self._write_at(run[0][2], [op[4] for op in run], run[0][3])
        finally:
            for op in run:
                self._written(op[1], op[4])

    def _write_at(self, path: str, buffers: list[bytes], offset: int) -> None:
        if self._slab is None or self._slab[0] != path:
            self._close(self._slab)
            self._slab = (path, os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
        fd = self._slab[1]
        written, total = os.pwritev(fd, buffers, offset), sum(map(len, buffers))  # at most 1024: IOV_MAX
        if written < total:  # a short write: the rest
            whole = memoryview(b"".join(buffers))
            while written < total:
                written += os.pwrite(fd, whole[written:], offset + written)

    def _copy(self, op: Op) -> None:
        _, name, source, source_offset, size, crc, target, number, offset = op
        try:
            if self._source is None or self._source[0] != source:
                self._close(self._source)
                self._source = (source, os.open(source, os.O_RDONLY | os.O_CLOEXEC))
            body = os.pread(self._source[1], size, source_offset)
            if len(body) != size or zlib.crc32(body) != crc:
                raise OSError(f"slab {source} does not hold the body of {name} any more")
            self._write_at(target, [body], offset)
        finally:
            self.moved.append((name, number, offset))

    def _settle(self) -> None:
        """Append the buffered records, then remove the slabs kept until the index held them
        (records given up: until a compaction writes it again)."""
        try:
            self.journal.flush()
            if self.journal.complete:
                for path in list(self._kept):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                    del self._kept[path]
        finally:
            # One store, after the removals: a slab removed at once is never counted (the store
            # reads this between any two of the thread's steps).
            self.kept_bytes = sum(self._kept.values())

    def _close(self, opened: tuple[str, int] | None) -> None:
        if opened is self._slab:
            self._slab = None
        if opened is self._source:
            self._source = None
        if opened is not None:
            os.close(opened[1])

    def _do(self, op: Op) -> bool:
        kind: str = op[0]
        if kind == "body":
            _, name, path, _, body = op
            try:
                _write_file(path, body)
            except BaseException:  # the part written goes before the body leaves `pending`
                self._unwritten.add(name)
                with contextlib.suppress(OSError):
                    os.unlink(path)
                raise
            finally:
                self._written(name, body)
        elif kind == "put":
            if op[1][RECORD_NAME] not in self._unwritten:
                self.journal.put(op[1], replaces=op[2])
        elif kind == "copy":
            self._copy(op)
        elif kind == "drop":
            if op[2] is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(op[2])
            if op[1] in self._unwritten:
                self._unwritten.discard(op[1])
            else:
                self.journal.drop(op[1])
        elif kind == "unlink":
            for opened in (self._slab, self._source):
                if opened is not None and opened[0] == op[1]:
                    self._close(opened)
            with contextlib.suppress(FileNotFoundError):
                self._kept[op[1]] = os.stat(op[1]).st_size
            self._settle()  # the records naming its bodies' new places first
        elif kind == "rewrite":
            try:
                self.journal.rewrite(op[1])
            finally:
                self.compacting = False  # a failed compaction may be tried again later
        elif kind == "stop":
            self._close(self._slab)
            self._close(self._source)
        return kind == "stop"


def _write_file(path: str, body: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        write_all(fd, body)
    finally:
        os.close(fd)
