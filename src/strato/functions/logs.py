"""Function logs: the INIT_START line Lambda writes when an environment starts, the START /
END / REPORT lines it writes around each invocation, the log files of each log group (a
function's own, or one its LoggingConfig names) every invocation is appended to, and reading
them back.

Line formats as Lambda writes them to CloudWatch Logs and to `X-Amz-Log-Result`
(https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html): REPORT fields are
tab-separated with a trailing tab; Billed Duration is rounded up to the millisecond and, on a
cold start, includes the Init Duration (Lambda bills the init phase since August 2025).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import OrderedDict, deque
from pathlib import Path

from strato.fileio import write_all

from . import log_records
from .app_log import LevelFilter
from .log_dirs import function_directory, function_streams, group_directory, group_function, write_group_name
from .records import LOG_TAIL_BYTES
from .runtime_client import END_MARK, MARK_MAX
from .runtimes import runtime_version, runtime_version_arn

log = logging.getLogger("strato.functions.logs")

LOG_FILE = "current.log"
MAX_FILE_BYTES = 8 * 1024 * 1024  # a group's current file is rotated past this
HELD_MAX = 1024 * 1024  # output EndMarks holds for a later invocation, at most
KEEP_FILES = 2  # rotated files kept besides the current one
FLUSH_BYTES = 64 * 1024  # an environment buffers at most this much output before writing it
OPEN_FILES = 128  # log groups' files held open at once
PIECES_MAX = 1024  # separately timed pieces an environment buffers before writing them
UNNAMED_STREAM = "unnamed"  # the stream of output read before an environment has its stream's name


def init_start_line(runtime: str, region: str) -> bytes:
    """The first line of an environment's log stream, before its init's own output."""
    return (f"INIT_START Runtime Version: {runtime_version(runtime)}\t"
            f"Runtime Version ARN: {runtime_version_arn(region, runtime)}\n").encode()


def init_report_line(duration_ms: float, status: str, phase: str = "init", error_type: str | None = None) -> bytes:
    """The line Lambda writes when an init fails by `status` (timeout, error): in the init phase,
    before it retries the init within the invocation, and in the invoke phase, when that retry fails."""
    line = f"INIT_REPORT Init Duration: {duration_ms:.2f} ms\tPhase: {phase}\tStatus: {status}"
    return (line + ("" if error_type is None else f"\tError Type: {error_type}") + "\n").encode()


def start_line(request_id: str, version: str) -> bytes:
    return f"START RequestId: {request_id} Version: {version}\n".encode()


def end_line(request_id: str) -> bytes:
    return f"END RequestId: {request_id}\n".encode()


def billed_ms(duration_ms: float, init_duration_ms: float | None) -> int:
    """Billed Duration: the invocation's and a cold start's init, rounded up to the millisecond."""
    return math.ceil(duration_ms + (init_duration_ms or 0.0))


def report_line(request_id: str, duration_ms: float, memory_size: int, max_memory_used: int,
                init_duration_ms: float | None = None, status: str | None = None,
                error_type: str | None = None) -> bytes:
    """The REPORT line; `status` (timeout, error) and `error_type` appear only when the invoke failed."""
    billed = billed_ms(duration_ms, init_duration_ms)
    line = (f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed} ms\t"
            f"Memory Size: {memory_size} MB\tMax Memory Used: {max_memory_used} MB\t")
    if init_duration_ms is not None:
        line += f"Init Duration: {init_duration_ms:.2f} ms\t"
    if status is not None:
        line += f"Status: {status}\t"
    if error_type is not None:
        line += f"Error Type: {error_type}\t"
    return (line + "\n").encode()


class EndMarks:
    """Sorts a runtime's output by the marks strato's runtime client writes after each
    invocation's output (runtime_client.end_mark: a NUL, a secret of the environment, the
    request id; an invocation that printed nothing owes its mark until the runtime next
    prints): output up to a mark is the invocation it names, whenever it is read.

    The environment reads the pipe when it can, so a read may hold the output of invocations
    whose START is not written yet: what `take` returns goes to the log now (the output of
    `collecting`, the invocation whose START is written and END is not, up to its mark; output
    with no mark after it, while that one's output is not over); the rest is held until its
    invocation's START. A mark is written whole (under PIPE_BUF) but a read can cut it: a NUL
    near the end of a read, with no newline after it, waits for the next read. Marks with
    another secret are ordinary output; a mark of an invocation already ended (an owed one, or
    read late) is dropped; more than HELD_MAX held (forged marks) goes to the log as it is.

        take(data, collecting) -> for the log now   started(id) -> what was held for it
        ended(id) at its END                         rest() -> everything held, at exit
    """

    __slots__ = ("_ended", "_held", "_over", "_prefix", "secret")

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self._prefix = END_MARK + secret.encode() + b" "
        self._held = b""  # read, not in the log yet: later invocations' output, or a cut mark
        self._over = False  # the collecting invocation's mark was read: its output is over
        self._ended: deque[str] = deque(maxlen=8)  # the last invocations whose END is written

    def take(self, data: bytes, collecting: str | None) -> bytes:
        """Of what was held and `data` (read after it), what goes to the log now."""
        held, self._held = self._held + data, b""
        placed: list[bytes] = []
        prefix = self._prefix
        while held:
            found = held.find(prefix)
            end = held.find(b"\n", found + len(prefix)) if found >= 0 else -1
            if end < 0:  # no whole mark: output, but for a cut mark at the end
                cut = found if found >= 0 else self._cut(held)
                if self._over:
                    cut = 0
                placed.append(held[:cut])
                self._held = held[cut:]
                break
            request_id = held[found + len(prefix):end].decode("latin-1")
            if request_id == collecting and not self._over:
                self._over = True
            elif request_id not in self._ended:  # a later invocation's: held, mark and all
                self._held = held
                break
            placed.append(held[:found])
            held = held[end + 1:]
        if len(self._held) > HELD_MAX:
            placed.append(self._held)
            self._held = b""
        return b"".join(placed)

    def started(self, request_id: str) -> bytes:
        """What was held for the invocation whose START was just written."""
        return self.take(b"", request_id)

    def ended(self, request_id: str) -> None:
        self._over = False
        self._ended.append(request_id)

    def rest(self) -> bytes:
        """The runtime is gone: what no invocation claimed goes to the log as it is."""
        held, self._held = self._held, b""
        return held

    def _cut(self, data: bytes) -> int:
        """Where a mark cut by the read may begin at the end of `data` (else its length)."""
        cut = data.rfind(b"\x00", max(0, len(data) - MARK_MAX))
        if cut >= 0 and b"\n" not in data[cut:] and self._prefix.startswith(data[cut:cut + len(self._prefix)]):
            return cut
        return len(data)


_CONTINUATION = bytes(range(0x80, 0xC0))  # UTF-8 bytes that cannot begin a character


def log_tail(data: bytes) -> bytes:
    """The X-Amz-Log-Result of an invocation whose log ends with `data`: its last LOG_TAIL_BYTES
    as UTF-8 (what is not UTF-8 replaced, as CloudWatch Logs replaces it), beginning at a
    character's start, so that replacing never takes it past Lambda's 4 KB."""
    tail = data[-LOG_TAIL_BYTES:]
    if len(data) > LOG_TAIL_BYTES:
        tail = tail.lstrip(_CONTINUATION)
    text = tail.decode("utf-8", "replace").encode()
    return text if len(text) <= LOG_TAIL_BYTES else text[-LOG_TAIL_BYTES:].lstrip(_CONTINUATION)


class GroupLog:
    """One log group's log: records (log_records.py) appended to `current.log`, rotated to
    `current.log.1` (and so on, KEEP_FILES deep) past MAX_FILE_BYTES, so a group's logs stay
    bounded on disk. A current file in the old raw format, or whose last record a crash tore,
    is rotated when opened, so that records are only ever appended after whole ones."""

    def __init__(self, directory: Path, max_bytes: int = MAX_FILE_BYTES, keep: int = KEEP_FILES) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._path = directory / LOG_FILE
        self._max_bytes = max_bytes
        self._keep = keep
        self._fd = self._open()
        try:
            self._size = os.fstat(self._fd).st_size
            generation = log_records.generation_of(self._fd) if self._size else None
            if generation is None and self._size == 0:
                self._begin(_generation(self._path.with_name(f"{LOG_FILE}.1")) + 1)
            elif generation is None or not log_records.ends_whole(self._fd, self._size):
                self._generation = generation or 0
                self._rotate()
            else:
                self._generation = generation
        except BaseException:  # a full disk cut the header short: the caller never gets this log to close
            self.close()
            raise

    def _open(self) -> int:
        return os.open(self._path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def _begin(self, generation: int) -> None:
        """The new current file's header; a header that could not be written whole (a full
        disk) is taken back, and the next write begins the file again."""
        self._generation = generation
        self._size = 0
        try:
            write_all(self._fd, log_records.file_header(generation))
        except OSError:
            os.ftruncate(self._fd, 0)
            raise
        self._size = log_records.FILE_HEADER

    def write(self, record: bytes) -> None:
        """Append one record (log_records.encode), in one write."""
        if self._size == 0:
            self._begin(self._generation)
        elif self._size > log_records.FILE_HEADER and self._size + len(record) > self._max_bytes:
            self._rotate()
        try:
            write_all(self._fd, record)
        except OSError:  # a full disk may take part of a record: take it back, so none follows a torn one
            os.ftruncate(self._fd, self._size)
            raise
        self._size += len(record)

    def _rotate(self) -> None:
        os.close(self._fd)
        self._fd = -1  # not closed again (nor its number, reused meanwhile) should what follows fail
        for index in range(self._keep, 0, -1):
            older = self._path.with_name(f"{LOG_FILE}.{index - 1}" if index > 1 else LOG_FILE)
            if older.exists():
                os.replace(older, self._path.with_name(f"{LOG_FILE}.{index}"))
        self._fd = self._open()
        self._begin(self._generation + 1)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _generation(path: Path) -> int:
    """The generation of a framed log file; 0 when there is none (or it is raw)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return 0
    try:
        return log_records.generation_of(fd) or 0
    finally:
        os.close(fd)


class LogFiles:
    """The log files of every log group, at most OPEN_FILES of them open at a time."""

    def __init__(self, logs_dir: Path, max_bytes: int = MAX_FILE_BYTES, keep: int = KEEP_FILES) -> None:
        self._dir = logs_dir
        self._max_bytes = max_bytes
        self._keep = keep
        self._open: OrderedDict[str, GroupLog] = OrderedDict()

    def write(self, group: str, record: bytes) -> None:
        log = self._open.get(group)
        if log is None:
            directory = group_directory(self._dir, group)
            log = GroupLog(directory, self._max_bytes, self._keep)
            if group_function(group) is None:
                write_group_name(directory, group)
            self._open[group] = log
            if len(self._open) > OPEN_FILES:
                self._open.popitem(last=False)[1].close()
        else:
            self._open.move_to_end(group)
        log.write(record)

    def close(self) -> None:
        for log in self._open.values():
            log.close()
        self._open.clear()


def log_paths(directory: Path) -> list[Path]:
    """A log group's files in `directory`, newest first (some may not exist)."""
    return [directory / LOG_FILE] + [directory / f"{LOG_FILE}.{index}" for index in range(1, KEEP_FILES + 1)]


def read_logs(logs_dir: Path, function_name: str, max_bytes: int = 1024 * 1024, group: str | None = None) -> bytes:
    """The newest `max_bytes` of a function's logs in `group` (None: its own) as raw text (what
    the runtime printed and strato's lines, without the records' framing), oldest first; empty
    if it has none. Of a group other than its own, its streams alone."""
    pieces: list[bytes] = []
    wanted = max_bytes
    directory = function_directory(logs_dir, function_name)
    streams = None
    if group is not None and group_function(group) != function_name:
        directory, streams = group_directory(logs_dir, group), function_streams(function_name)
    for path in log_paths(directory):
        if wanted <= 0:
            break
        try:
            file = open(path, "rb")  # noqa: SIM115 (closed below)
        except FileNotFoundError:
            continue
        with file:
            if log_records.generation_of(file.fileno()) is None:  # written before the framed format
                size = file.seek(0, os.SEEK_END)
                file.seek(max(0, size - wanted))
                piece = file.read(wanted)
            else:
                piece = log_records.raw_text(file, wanted, streams)
        pieces.append(piece)
        wanted -= len(piece)
    return b"".join(reversed(pieces))


class Output:
    """An environment's output on its way to its log group: what the runtime printed
    between START and END (`add`), plus the lines strato adds (`note`), each piece timed (ms
    since the epoch) when it was read or written, and written as one record of the
    environment's log stream. Bounded: past FLUSH_BYTES (or PIECES_MAX pieces) it is written out
    early, up to its last whole line, keeping only the last LOG_TAIL_BYTES for the
    invocation's log tail. Given `levels` (LoggingConfig JSON), the runtime's lines below the
    function's ApplicationLogLevel are left out."""

    __slots__ = ("_carry", "_files", "_group", "_levels", "_open_line", "_pieces", "_size", "stream")

    def __init__(self, files: LogFiles, group: str, stream: str = UNNAMED_STREAM,
                 levels: LevelFilter | None = None) -> None:
        self._files = files
        self._group = group  # the log group it goes to
        self._levels = levels
        self.stream = stream  # the environment's AWS_LAMBDA_LOG_STREAM_NAME, once it has one
        self._pieces: list[log_records.Piece] = []
        self._size = 0
        self._carry = b""  # the end of what was written early, for the tail
        self._open_line = False  # the output so far ends inside a line

    def follow(self, tail: bytes) -> None:
        """Begin the log tail with `tail` (what another environment logged for the same invocation)."""
        self._carry = tail[-LOG_TAIL_BYTES:]

    def add(self, data: bytes) -> None:
        """The runtime's output, as read."""
        if self._levels is not None:
            data = self._levels.take(data)
        if data:
            self._append(data, False)
            self._open_line = not data.endswith(b"\n")

    def _release(self) -> None:
        """A line the level filter holds, not ended yet, goes as it is."""
        if self._levels is not None:
            data = self._levels.rest()
            if data:
                self._append(data, False)
                self._open_line = True

    def note(self, line: bytes) -> None:
        """One of strato's own lines (START, END, REPORT, an exit's words): it begins a line, so
        output that ended without a newline is ended first (Lambda logs it as a line of its own).
        An empty one (a system log line its level leaves out) is nothing."""
        if not line:
            return
        self._release()
        self._append(b"\n" + line if self._open_line else line, True)
        self._open_line = False

    def _append(self, data: bytes, starts: bool) -> None:
        self._pieces.append((time.time_ns() // 1_000_000, starts, data))
        self._size += len(data)
        if self._size > FLUSH_BYTES or len(self._pieces) >= PIECES_MAX:
            self._spill()

    def _spill(self) -> None:
        """Write what is buffered up to its last whole line; a line longer than FLUSH_BYTES is cut."""
        pieces = self._pieces
        written, kept = pieces, []
        for index in range(len(pieces) - 1, -1, -1):
            at, starts, data = pieces[index]
            cut = data.rfind(b"\n") + 1
            if cut:
                written = [*pieces[:index], (at, starts, data[:cut])]
                kept = ([(at, False, data[cut:])] if cut < len(data) else []) + pieces[index + 1:]
                break
        kept_size = sum(len(data) for _, _, data in kept)
        if kept_size > FLUSH_BYTES or len(kept) >= PIECES_MAX:
            written, kept, kept_size = pieces, [], 0
        payload = self._write(written)
        self._carry = (self._carry + payload)[-LOG_TAIL_BYTES:]
        self._pieces = kept
        self._size = kept_size

    def _write(self, pieces: list[log_records.Piece]) -> bytes:
        """Append the pieces to the group's log; output that cannot be written (a full disk)
        is lost, not the invocation it came with: Lambda's functions run on when CloudWatch
        cannot take their logs."""
        payload = b"".join(data for _, _, data in pieces)
        if pieces:
            try:
                self._files.write(self._group, log_records.encode(self.stream, pieces, payload))
            except OSError as exc:
                log.warning("%d bytes of log group %s are lost: %s", len(payload), self._group, exc)
        return payload

    def flush(self) -> bytes:
        """Write what is buffered; returns the last LOG_TAIL_BYTES of everything since the last flush."""
        self._release()
        data = self._write(self._pieces)
        tail = (self._carry + data)[-LOG_TAIL_BYTES:] if len(data) < LOG_TAIL_BYTES else data[-LOG_TAIL_BYTES:]
        self._pieces = []
        self._size = 0
        self._carry = b""
        return tail
