"""A log group's log (a function's own, or one several functions share) read back as
CloudWatch Logs-style events: one event per line (without its newline; empty lines are not
events), timed when its first byte was read from the runtime or written by strato, in its
environment's log stream. Also the streams a log holds and the groups that have logs.

Every read streams the records of the group's (at most KEEP_FILES + 1) files once, and
keeps at most one page of events: memory stays bounded whatever the log's size. Files in the
raw format written before records existed hold no events (read_logs still returns their text).
An event's Key (file generation, record offset, line index) orders every event of a group
and stays valid across rotations; a page is asked for by the key it follows or precedes.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from . import log_records
from .log_dirs import CUSTOM_GROUPS, GROUP_FILE, group_directory, group_function
from .log_records import FILE_HEADER, Record
from .logs import log_paths
from .records import OWN_LOG_GROUP

Key = tuple[int, int, int]  # file generation, record offset, line index
EVENT_OVERHEAD = 26  # bytes CloudWatch Logs counts per event besides its message, towards a page's size


@dataclass(frozen=True, slots=True)
class LogEvent:
    key: Key
    timestamp: int  # ms since the epoch
    stream: str
    message: str

    @property
    def size(self) -> int:
        return len(self.message.encode()) + EVENT_OVERHEAD


@dataclass(frozen=True, slots=True)
class Selection:
    """Which events a read wants: their streams (None: all), times (ms, `end` excluded) and text."""

    streams: Callable[[str], bool] | None = None
    start: int | None = None
    end: int | None = None
    matches: Callable[[str], bool] | None = None

    def wants_record(self, stream: str, earliest: int, latest: int) -> bool:
        return ((self.streams is None or self.streams(stream)) and (self.start is None or latest >= self.start)
                and (self.end is None or earliest < self.end))

    def wants(self, timestamp: int, message: str) -> bool:
        return ((self.start is None or timestamp >= self.start) and (self.end is None or timestamp < self.end)
                and (self.matches is None or self.matches(message)))


@dataclass(frozen=True, slots=True)
class StreamSummary:
    name: str
    first: int  # ms of its first and last piece
    last: int


@dataclass(frozen=True, slots=True)
class GroupSummary:
    group: str  # its name
    created: int  # ms: the first record kept (or the oldest file's mtime)
    stored_bytes: int
    updated: int  # ms: the last write (the newest file's mtime)


def record_lines(record: Record) -> Iterator[tuple[int, int, str]]:
    """(line index, ms, text) of each non-empty line of a record: lines end at a newline and
    before a piece that begins one; a line is timed by the piece its first byte is in."""
    payload = record.payload or b""
    index = 0
    position = 0
    pending: list[bytes] = []
    pending_at = 0
    for at, length, starts in record.pieces:
        piece = payload[position:position + length]
        position += length
        if starts and pending:
            yield index, pending_at, b"".join(pending).decode(errors="replace")
            index += 1
            pending = []
        parts = piece.split(b"\n")
        for part in parts[:-1]:
            if not pending:
                pending_at = at
            pending.append(part)
            line = b"".join(pending)
            if line:
                yield index, pending_at, line.decode(errors="replace")
            index += 1
            pending = []
        if parts[-1]:
            if not pending:
                pending_at = at
            pending.append(parts[-1])
    if pending:
        yield index, pending_at, b"".join(pending).decode(errors="replace")


class GroupLogReader:
    """One log group's framed log files, open for one read (a context manager): opened at
    once and ordered by generation, so that a rotation meanwhile neither hides nor repeats any."""

    def __init__(self, logs_dir: Path, group: str) -> None:
        self.directory = group_directory(logs_dir, group)
        self._files: list[tuple[int, BinaryIO]] = []
        self._end: Key = (0, 0, -1)
        self.exists = False  # the group has log files (framed or not)

    def __enter__(self) -> GroupLogReader:
        seen: dict[int, BinaryIO] = {}
        try:
            for path in log_paths(self.directory):
                try:
                    file = open(path, "rb", buffering=64 * 1024)
                except FileNotFoundError:
                    continue
                self.exists = True
                generation = log_records.generation_of(file.fileno())
                if generation is None or generation in seen:
                    file.close()
                else:
                    seen[generation] = file
        except BaseException:
            for file in seen.values():
                file.close()
            raise
        self._files = sorted(seen.items())
        if self._files:
            generation, file = self._files[-1]
            size = os.fstat(file.fileno()).st_size
            if not log_records.ends_whole(file.fileno(), size):  # a write under way, or a torn record
                size = log_records.whole_end(file, generation)
            self._end = (generation, size, -1)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for _, file in self._files:
            file.close()
        self._files = []
        self.exists = False

    def end(self) -> Key:
        """A key after every event written before the reader opened: what is written while it
        reads comes after it, so a page that ends here misses none of that. It is a record's end,
        never the middle of one being written."""
        return self._end

    def heads(self) -> Iterator[Record]:
        """Every record, oldest first, without payloads."""
        for generation, file in self._files:
            yield from log_records.records(file, generation, wanted=lambda *_: False)

    def events(self, selection: Selection, after: Key | None = None) -> Iterator[LogEvent]:
        """The selected events after `after` (None: from the first), oldest first."""
        for generation, file in self._files:
            if after is None or generation > after[0]:
                yield from _file_events(generation, file, selection, None)
            elif generation == after[0]:
                yield from _file_events(generation, file, selection, after)

    def files_newest_first(self, selection: Selection) -> Iterator[Iterator[LogEvent]]:
        """The selected events file by file, the newest file first (each file's oldest first)."""
        for generation, file in reversed(self._files):
            yield _file_events(generation, file, selection, None)


def _file_events(generation: int, file: BinaryIO, selection: Selection, after: Key | None) -> Iterator[LogEvent]:
    """One file's selected events, oldest first; after `after` when it is this file's."""
    start = FILE_HEADER if after is None else after[1]
    for record in log_records.records(file, generation, start=start, wanted=selection.wants_record):
        if record.payload is None:
            continue
        skip = after[2] if after is not None and record.offset == after[1] else -1
        for index, at, text in record_lines(record):
            if index > skip and selection.wants(at, text):
                yield LogEvent((generation, record.offset, index), at, record.stream, text)


def forward_page(reader: GroupLogReader, selection: Selection, after: Key | None, limit: int,
                 max_bytes: int) -> tuple[list[LogEvent], bool]:
    """The first `limit` selected events after `after` within `max_bytes`; True when the page
    filled up before the log ended (more may follow)."""
    page: list[LogEvent] = []
    size = 0
    for event in reader.events(selection, after):
        if len(page) == limit or (page and size + event.size > max_bytes):
            return page, True
        page.append(event)
        size += event.size
    return page, False


def backward_page(reader: GroupLogReader, selection: Selection, before: Key | None, limit: int,
                  max_bytes: int) -> list[LogEvent]:
    """The last `limit` selected events before `before` (None: the end) within `max_bytes`.
    Files are read newest first, and an older one only while the page has room: the page of
    the newest events (GetLogEvents' default) reads the current file alone."""
    page: deque[LogEvent] = deque()
    size = 0
    for events in reader.files_newest_first(selection):
        tail: deque[LogEvent] = deque()  # this file's last events before `before` that fit
        tail_size = 0
        full = False
        for event in events:
            if before is not None and event.key >= before:
                break
            tail.append(event)
            tail_size += event.size
            while len(page) + len(tail) > limit or size + tail_size > max_bytes:
                tail_size -= tail.popleft().size
                full = True
        page.extendleft(reversed(tail))
        size += tail_size
        if full or len(page) == limit:
            break
    return list(page)


def stream_summaries(reader: GroupLogReader) -> list[StreamSummary]:
    """Every stream of a group's log with its first and last times, by name."""
    found: dict[str, tuple[int, int]] = {}
    for record in reader.heads():
        if record.pieces:
            first, last = found.get(record.stream, (record.first, record.last))
            found[record.stream] = (min(first, record.first), max(last, record.last))
    return [StreamSummary(name, first, last) for name, (first, last) in sorted(found.items())]


def group_summary(logs_dir: Path, group: str) -> GroupSummary | None:
    """The group's log, if it has one."""
    return _group(group_directory(logs_dir, group), group)


def group_summaries(logs_dir: Path) -> list[GroupSummary]:
    """The groups that have logs, by name: functions' own, and the others."""
    groups = [_group(directory, name) for name, directory in _directories(logs_dir)]
    return sorted((group for group in groups if group is not None), key=lambda group: group.group)


def _directories(logs_dir: Path) -> list[tuple[str, Path]]:
    """Each group's name and directory: a function's own group's directory is named by the
    function, another's holds its name (one being made may not yet: it is left out)."""
    found = []
    with contextlib.suppress(FileNotFoundError), os.scandir(logs_dir) as entries:
        found = [(OWN_LOG_GROUP + entry.name, Path(entry.path)) for entry in entries
                 if entry.is_dir() and group_function(OWN_LOG_GROUP + entry.name) is not None]
    with contextlib.suppress(FileNotFoundError), os.scandir(logs_dir / CUSTOM_GROUPS) as entries:
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                found.append(((Path(entry.path) / GROUP_FILE).read_text(), Path(entry.path)))
    return found


def _group(directory: Path, group: str) -> GroupSummary | None:
    stored = updated = 0
    created: int | None = None
    for path in reversed(log_paths(directory)):  # oldest first
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        stored += stat.st_size
        updated = max(updated, stat.st_mtime_ns // 1_000_000)
        if created is None:
            created = _first_time(path) or stat.st_mtime_ns // 1_000_000
    return None if created is None else GroupSummary(group, created, stored, updated)


def _first_time(path: Path) -> int | None:
    """The time of a framed file's first record, None for a raw or empty one, or one a rotation
    renamed since it was listed."""
    try:
        file = open(path, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        return None
    with file:
        generation = log_records.generation_of(file.fileno())
        if generation is None:
            return None
        for record in log_records.records(file, generation, wanted=lambda *_: False):
            return record.first
    return None
