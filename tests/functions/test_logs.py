"""Log lines as Lambda writes them, the per-function files and reading them back, and the
wording of failures."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from strato.functions import failures, log_records
from strato.functions.log_dirs import CUSTOM_GROUPS, group_directory
from strato.functions.log_events import group_summaries
from strato.functions.logs import (
    HELD_MAX,
    LOG_FILE,
    EndMarks,
    GroupLog,
    LogFiles,
    Output,
    end_line,
    init_start_line,
    read_logs,
    report_line,
    start_line,
)
from strato.functions.records import LOG_TAIL_BYTES
from strato.functions.runtime_client import end_mark


class TestLines:
    def test_start_and_end(self) -> None:
        assert start_line("abc", "$LATEST") == b"START RequestId: abc Version: $LATEST\n"
        assert end_line("abc") == b"END RequestId: abc\n"

    def test_an_environment_begins_its_stream_with_init_start(self) -> None:
        line = init_start_line("python3.12", "eu-west-1")
        assert line.startswith(b"INIT_START Runtime Version: python:3.12.v1\tRuntime Version ARN: "
                               b"arn:aws:lambda:eu-west-1::runtime:")
        assert line.endswith(b"\n")
        assert init_start_line("nodejs22.x", "eu-west-1").startswith(b"INIT_START Runtime Version: nodejs:22.v1\t")
        assert init_start_line("provided.al2023", "eu-west-1").startswith(
            b"INIT_START Runtime Version: provided:al2023.v1\t")

    def test_a_warm_report_is_tab_separated_with_a_trailing_tab(self) -> None:
        assert report_line("abc", 1.234, 128, 40) == (
            b"REPORT RequestId: abc\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
            b"Max Memory Used: 40 MB\t\n")

    def test_a_cold_report_adds_the_init_duration_and_bills_it(self) -> None:
        assert report_line("abc", 1.5, 256, 50, init_duration_ms=5.67) == (
            b"REPORT RequestId: abc\tDuration: 1.50 ms\tBilled Duration: 8 ms\tMemory Size: 256 MB\t"
            b"Max Memory Used: 50 MB\tInit Duration: 5.67 ms\t\n")

    def test_a_failed_invoke_reports_its_status_and_error_type(self) -> None:
        line = report_line("abc", 3000.0, 128, 41, status="error", error_type="Runtime.ExitError")
        assert line.endswith(b"\tStatus: error\tError Type: Runtime.ExitError\t\n")


def record(text: bytes, stream: str = "s", at: int = 1) -> bytes:
    """One log record of `text` as runtime output, in stream `stream`, at `at` ms."""
    return log_records.encode(stream, [(at, False, text)], text)


_FULL_AT_ROTATION = """
import resource, signal, sys
from pathlib import Path
from strato.functions import log_records
from strato.functions.logs import GroupLog

def record(label):
    text = label + b"." * 47 + b"\\n"
    return log_records.encode("s", [(1, False, text)], text)

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
log = GroupLog(Path(sys.argv[1]), max_bytes=log_records.FILE_HEADER + 2 * len(record(b"00")), keep=2)
for index in range(6):
    log.write(record(b"%02d" % index))
resource.setrlimit(resource.RLIMIT_FSIZE, (10, resource.RLIM_INFINITY))
for _ in range(2):
    try:
        log.write(record(b"xx"))
    except OSError:
        pass
    else:
        sys.exit("a write past the limit succeeded")
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
log.write(record(b"06"))
log.close()
"""


_FULL_AT_OPEN = """
import os, resource, signal, sys
from pathlib import Path
from strato.functions import log_records
from strato.functions.logs import LogFiles

text = b"x" * 47 + b"\\n"
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
files = LogFiles(Path(sys.argv[1]))
resource.setrlimit(resource.RLIMIT_FSIZE, (10, resource.RLIM_INFINITY))
before = len(os.listdir("/proc/self/fd"))
for _ in range(20):
    try:
        files.write("/aws/lambda/fn", log_records.encode("s", [(1, False, text)], text))
    except OSError:
        pass
    else:
        sys.exit("a write past the limit succeeded")
sys.exit(len(os.listdir("/proc/self/fd")) - before)
"""


class TestFiles:
    def test_a_log_the_disk_is_too_full_to_begin_leaves_no_descriptor_open(self, tmp_path: Path) -> None:
        """Each write to a group's log not yet open makes its GroupLog, whose header a full
        disk cuts short: the log is never handed back to be closed, so it closes its own file."""
        done = subprocess.run([sys.executable, "-c", _FULL_AT_OPEN, str(tmp_path)], timeout=30)
        assert done.returncode == 0, f"{done.returncode} descriptors left open"

    def test_invocations_are_appended_and_read_back(self, tmp_path: Path) -> None:
        files = LogFiles(tmp_path)
        files.write("/aws/lambda/fn", record(b"one\n"))
        files.write("/aws/lambda/fn", record(b"two\n"))
        files.write("/aws/lambda/other", record(b"elsewhere\n"))
        files.close()
        assert read_logs(tmp_path, "fn") == b"one\ntwo\n"
        assert read_logs(tmp_path, "fn", max_bytes=4) == b"two\n"
        assert read_logs(tmp_path, "never-invoked") == b""

    def test_a_log_is_rotated_and_stays_bounded(self, tmp_path: Path) -> None:
        line = record(b"00" + b"." * 47 + b"\n")
        log = GroupLog(tmp_path / "fn", max_bytes=log_records.FILE_HEADER + 2 * len(line), keep=2)
        for index in range(20):
            log.write(record(b"%02d" % index + b"." * 47 + b"\n"))  # two per file
        log.close()
        assert sorted(path.name for path in (tmp_path / "fn").iterdir()) == [LOG_FILE, f"{LOG_FILE}.1", f"{LOG_FILE}.2"]
        kept = read_logs(tmp_path, "fn")
        assert [line[:2] for line in kept.splitlines()] == [b"%02d" % index for index in range(14, 20)]

    def test_a_rotation_that_finds_the_disk_full_loses_no_kept_file_and_tears_none(self, tmp_path: Path) -> None:
        """A file size limit (RLIMIT_FSIZE: writes past it fail as on a full disk) in a child
        process cuts the new file's header short: the header is taken back and written again
        by the next write, in the same file; no rotation is repeated, so no kept file is lost."""
        subprocess.run([sys.executable, "-c", _FULL_AT_ROTATION, str(tmp_path / "fn")], check=True, timeout=30)
        kept = read_logs(tmp_path, "fn")
        assert [line[:2] for line in kept.splitlines()] == [b"02", b"03", b"04", b"05", b"06"]

    def test_a_shared_group_is_kept_apart_from_every_functions_own_and_read_by_function(self, tmp_path: Path) -> None:
        """A LoggingConfig.LogGroup may be named like a function ("fn") and be shared: its log is
        its own, and a function's log read there is that function's streams."""
        files = LogFiles(tmp_path)
        files.write("/aws/lambda/fn", record(b"own\n"))
        files.write("fn", record(b"fn's\n", "2026/01/02/fn[$LATEST][0a]"))
        files.write("fn", record(b"other's\n", "2026/01/02/other[$LATEST][0b]"))
        files.write("fn", record(b"prefixed\n", "2026/01/02/fn-2[$LATEST][0c]"))
        files.close()
        assert read_logs(tmp_path, "fn") == b"own\n"
        assert read_logs(tmp_path, "fn", group="fn") == b"fn's\n"
        assert read_logs(tmp_path, "other", group="fn") == b"other's\n"
        assert read_logs(tmp_path, "fn", group="/aws/lambda/fn") == b"own\n"
        assert group_directory(tmp_path, "/aws/lambda/fn") == tmp_path / "fn"
        assert group_directory(tmp_path, "fn").parent == tmp_path / CUSTOM_GROUPS
        assert [group.group for group in group_summaries(tmp_path)] == ["/aws/lambda/fn", "fn"]

    def test_names_that_are_not_function_names_are_refused(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="not a function name"):
            read_logs(tmp_path, "../secrets")

    def test_output_keeps_only_a_bounded_buffer_and_the_tail(self, tmp_path: Path) -> None:
        files = LogFiles(tmp_path)
        output = Output(files, "/aws/lambda/fn")
        for index in range(100):
            output.add(b"%03d" % index + b"x" * 1020 + b"\n")  # 100 KiB in all
        tail = output.flush()
        files.close()
        assert len(tail) == LOG_TAIL_BYTES
        assert tail.endswith(b"099" + b"x" * 1020 + b"\n")
        assert len(read_logs(tmp_path, "fn")) == 100 * 1024


    def test_output_without_a_last_newline_ends_its_line_before_strato_s_next_line(self, tmp_path: Path) -> None:
        files = LogFiles(tmp_path)
        output = Output(files, "/aws/lambda/fn")
        output.note(b"START RequestId: r Version: $LATEST\n")
        output.add(b"no newline")
        output.note(b"END RequestId: r\n")
        output.add(b"ends its line\n")
        output.note(b"REPORT RequestId: r\n")
        output.flush()
        files.close()
        assert read_logs(tmp_path, "fn").splitlines() == [
            b"START RequestId: r Version: $LATEST", b"no newline", b"END RequestId: r", b"ends its line",
            b"REPORT RequestId: r"]


class TestFailures:
    def test_exit_reasons_use_gos_wording(self) -> None:
        assert failures.exit_reason(1) == "exit status 1"
        assert failures.exit_reason(-signal.SIGKILL) == "signal: killed"
        assert failures.exit_reason(-signal.SIGSEGV) == "signal: segmentation fault"

    def test_a_kill_at_the_memory_limit_is_out_of_memory(self) -> None:
        assert failures.exit_type(-signal.SIGKILL, 128, 128) == failures.OUT_OF_MEMORY
        assert failures.exit_type(-signal.SIGKILL, 60, 128) == failures.EXIT_ERROR
        assert failures.exit_type(1, 128, 128) == failures.EXIT_ERROR

    def test_a_timeout_document(self) -> None:
        assert json.loads(failures.timed_out("abc", 3)) == {
            "errorType": "Sandbox.Timedout", "errorMessage": "RequestId: abc Error: Task timed out after 3.00 seconds"}

    def test_error_posts_that_are_not_json_objects_are_wrapped(self) -> None:
        body = b'{"errorType": "ValueError", "errorMessage": "x"}'
        assert failures.error_document(body, "") == body
        assert json.loads(failures.error_document(b"plain words", "Custom.Error")) == {
            "errorType": "Custom.Error", "errorMessage": "plain words"}
        assert json.loads(failures.error_document(b"[1]", ""))["errorType"] == "Runtime.Unknown"

    def test_an_error_post_nested_too_deeply_to_parse_is_wrapped(self) -> None:
        """Function code writes it: it must not break the invocation's answer."""
        deep = b"[" * 100_000 + b"]" * 100_000
        assert json.loads(failures.error_document(deep, "Custom.Error"))["errorType"] == "Custom.Error"


class TestEndMarks:
    """The marks strato's runtime client writes after each invocation's output put that output
    in its own invocation's log, however the pipe's reads cut it and however late its START
    and END are written."""

    @staticmethod
    def marks() -> EndMarks:
        return EndMarks("f00d")

    def test_output_up_to_its_invocations_mark_goes_now_and_the_rest_waits_for_the_next_start(self) -> None:
        marks = self.marks()
        data = b"hello\n" + end_mark("f00d", "req-1") + b"next one's\n"
        assert marks.take(data, "req-1") == b"hello\n"
        assert marks.take(b"more of it\n", "req-1") == b""
        marks.ended("req-1")
        assert marks.started("req-2") == b"next one's\nmore of it\n"

    def test_output_without_a_mark_goes_to_the_invocation_collecting_or_between_invocations(self) -> None:
        assert self.marks().take(b"just printing\n", "req-1") == b"just printing\n"
        assert self.marks().take(b"between\n", None) == b"between\n"

    def test_output_before_a_later_invocations_mark_waits_for_its_start(self) -> None:
        """Read with its START still to come (the reports are read late): not the answered one's."""
        marks = self.marks()
        data = b"line 3\n" + end_mark("f00d", "req-3")
        assert marks.take(data, "req-2") == b""
        marks.ended("req-2")
        assert marks.started("req-3") == b"line 3\n"

    def test_a_silent_invocations_owed_mark_before_the_next_ones_output_ends_nothing_of_it(self) -> None:
        """Read before the silent one's END: the output after its mark waits for the next START;
        read after it: the mark is dropped and the output is the invocation collecting now."""
        marks = self.marks()
        assert marks.take(end_mark("f00d", "req-2") + b"line 3\n", "req-2") == b""
        marks.ended("req-2")
        assert marks.started("req-3") == b"line 3\n"
        marks = self.marks()
        marks.ended("req-2")
        assert marks.take(end_mark("f00d", "req-2") + b"line 3\n", "req-3") == b"line 3\n"

    def test_a_mark_with_another_secret_is_ordinary_output(self) -> None:
        forged = b"x" + end_mark("beef", "req-1")
        assert self.marks().take(forged, "req-1") == forged

    def test_a_mark_read_after_its_invocations_end_is_dropped(self) -> None:
        marks = self.marks()
        marks.ended("req-1")
        assert marks.take(b"late\n" + end_mark("f00d", "req-1") + b"now\n", "req-2") == b"late\nnow\n"

    def test_a_mark_cut_by_a_read_waits_for_the_rest(self) -> None:
        whole = b"tail of output" + end_mark("f00d", "req-2") + b"after"
        for cut in range(len(b"tail of output") + 1, len(whole) - len(b"after")):
            marks = self.marks()
            first = marks.take(whole[:cut], "req-2")
            assert b"tail of output".startswith(first)
            assert first + marks.take(whole[cut:], "req-2") == b"tail of output"

    def test_a_nul_that_cannot_start_a_mark_is_output_at_once(self) -> None:
        assert self.marks().take(b"binary\x00junk\n", "req-1") == b"binary\x00junk\n"
        assert self.marks().take(b"ends in\x00x", "req-1") == b"ends in\x00x"

    def test_what_is_held_stays_bounded(self) -> None:
        """Marks naming invocations that never start (forged ones) cannot grow the holding."""
        marks = self.marks()
        data = end_mark("f00d", "never") + b"x" * HELD_MAX
        assert marks.take(data, "req-1") == data
        assert marks.rest() == b""

    def test_a_mark_never_completed_is_output_when_the_runtime_is_gone(self) -> None:
        marks = self.marks()
        assert marks.take(b"out\x00strato-e", "req-1") == b"out"
        assert marks.rest() == b"\x00strato-e"
        assert marks.rest() == b""
