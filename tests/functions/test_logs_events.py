"""A function's log as records: each write keeps its log stream and the time of each piece,
reads back line by line as events, and as the raw text it always was; files written before
records existed still read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from strato.functions import log_records
from strato.functions.log_events import (
    GroupLogReader,
    LogEvent,
    Selection,
    backward_page,
    forward_page,
    group_summaries,
    stream_summaries,
)
from strato.functions.logs import FLUSH_BYTES, LOG_FILE, GroupLog, LogFiles, Output, read_logs

STREAM = "2026/11/27/[$LATEST]0123456789abcdef0123456789abcdef"


def write(directory: Path, *records: tuple[str, list[log_records.Piece]], max_bytes: int = 1 << 20) -> None:
    log = GroupLog(directory, max_bytes=max_bytes)
    for stream, pieces in records:
        log.write(log_records.encode(stream, pieces, b"".join(data for _, _, data in pieces)))
    log.close()


def events(logs_dir: Path, name: str = "/aws/lambda/fn", selection: Selection | None = None) -> list[LogEvent]:
    with GroupLogReader(logs_dir, name) as reader:
        return list(reader.events(selection or Selection()))


def texts(found: list[LogEvent]) -> list[str]:
    return [event.message for event in found]


class TestEvents:
    def test_each_line_is_an_event_timed_by_the_piece_its_first_byte_came_in(self, tmp_path: Path) -> None:
        write(tmp_path / "fn", (STREAM, [(100, True, b"START RequestId: r1\n"), (101, False, b"hel"),
                                         (102, False, b"lo\nsecond\n\n"), (105, True, b"END RequestId: r1\n")]))
        found = events(tmp_path)
        assert [(event.timestamp, event.message) for event in found] == [
            (100, "START RequestId: r1"), (101, "hello"), (102, "second"), (105, "END RequestId: r1")]
        assert {event.stream for event in found} == {STREAM}

    def test_strato_lines_begin_a_line_after_output_that_did_not_end_one(self, tmp_path: Path) -> None:
        write(tmp_path / "fn", (STREAM, [(1, False, b"no newline"), (2, True, b"END RequestId: r1\n")]))
        assert texts(events(tmp_path)) == ["no newline", "END RequestId: r1"]
        assert read_logs(tmp_path, "fn") == b"no newlineEND RequestId: r1\n"

    def test_output_written_early_is_cut_at_its_last_whole_line(self, tmp_path: Path) -> None:
        files = LogFiles(tmp_path)
        output = Output(files, "/aws/lambda/fn", STREAM)
        line = b"x" * 1000 + b"\n"
        for _ in range(FLUSH_BYTES // len(line) + 1):
            output.add(line[:600])
            output.add(line[600:])
        output.flush()
        files.close()
        assert set(texts(events(tmp_path))) == {"x" * 1000}
        assert len(events(tmp_path)) == FLUSH_BYTES // len(line) + 1

    def test_a_time_selects_a_line_whose_record_the_clock_stepped_back_in(self, tmp_path: Path) -> None:
        write(tmp_path / "fn", (STREAM, [(100, False, b"before the step\n"), (90, False, b"after it\n")]))
        assert texts(events(tmp_path, selection=Selection(start=95))) == ["before the step"]
        assert texts(events(tmp_path, selection=Selection(end=95))) == ["after it"]

    def test_streams_and_times_select_events(self, tmp_path: Path) -> None:
        write(tmp_path / "fn", ("a", [(10, False, b"a1\n")]), ("b", [(20, False, b"b1\n")]),
              ("a", [(30, False, b"a2\n")]))
        assert texts(events(tmp_path, selection=Selection(streams=lambda name: name == "a"))) == ["a1", "a2"]
        assert texts(events(tmp_path, selection=Selection(start=20, end=30))) == ["b1"]
        assert texts(events(tmp_path, selection=Selection(matches=lambda text: text.endswith("2")))) == ["a2"]


class TestPages:
    def test_pages_follow_and_precede_an_events_key(self, tmp_path: Path) -> None:
        write(tmp_path / "fn", *[(STREAM, [(index, False, b"line %d\nmore %d\n" % (index, index))])
                                 for index in range(5)])
        with GroupLogReader(tmp_path, "/aws/lambda/fn") as reader:
            first, more = forward_page(reader, Selection(), None, 3, 1 << 20)
            assert texts(first) == ["line 0", "more 0", "line 1"]
            assert more
            rest, more = forward_page(reader, Selection(), first[-1].key, 100, 1 << 20)
            assert texts(rest)[0] == "more 1"
            assert len(rest) == 7
            assert not more
            assert texts(backward_page(reader, Selection(), rest[0].key, 2, 1 << 20)) == ["more 0", "line 1"]
            assert texts(backward_page(reader, Selection(), None, 1, 1 << 20)) == ["more 4"]
            assert forward_page(reader, Selection(), reader.end(), 10, 1 << 20) == ([], False)

    def test_the_end_key_leaves_what_was_written_while_the_reader_was_open_to_the_next_page(
            self, tmp_path: Path) -> None:
        write(tmp_path / "fn", (STREAM, [(1, False, b"before\n")]))
        with GroupLogReader(tmp_path, "/aws/lambda/fn") as reader:
            assert texts(backward_page(reader, Selection(), None, 10, 1 << 20)) == ["before"]
            write(tmp_path / "fn", (STREAM, [(2, False, b"meanwhile\n")]))
            end = reader.end()
        with GroupLogReader(tmp_path, "/aws/lambda/fn") as reader:
            assert texts(forward_page(reader, Selection(), end, 10, 1 << 20)[0]) == ["meanwhile"]

    def test_the_end_key_is_never_inside_a_record_still_being_written(self, tmp_path: Path) -> None:
        write(tmp_path / "fn", (STREAM, [(1, False, b"before\n")]))
        pending = log_records.encode(STREAM, [(2, False, b"being written\n")], b"being written\n")
        with open(tmp_path / "fn" / LOG_FILE, "ab") as file:
            file.write(pending[:10])
            file.flush()
            with GroupLogReader(tmp_path, "/aws/lambda/fn") as reader:
                end = reader.end()
            file.write(pending[10:])
        with GroupLogReader(tmp_path, "/aws/lambda/fn") as reader:
            assert texts(forward_page(reader, Selection(), end, 10, 1 << 20)[0]) == ["being written"]

    def test_a_page_stays_within_its_byte_limit(self, tmp_path: Path) -> None:
        write(tmp_path / "fn", (STREAM, [(1, False, b"y" * 74 + b"\n") for _ in range(10)]))
        with GroupLogReader(tmp_path, "/aws/lambda/fn") as reader:
            page, more = forward_page(reader, Selection(), None, 100, 300)
            assert (len(page), more) == (3, True)  # 100 bytes an event, as CloudWatch counts them
            assert len(backward_page(reader, Selection(), None, 100, 300)) == 3

    def test_keys_stay_ordered_across_rotations(self, tmp_path: Path) -> None:
        record = (STREAM, [(1, False, b"z" * 99 + b"\n")])
        size = len(log_records.encode(*record, b"z" * 99 + b"\n"))
        write(tmp_path / "fn", *[record] * 5, max_bytes=log_records.FILE_HEADER + 2 * size)
        found = events(tmp_path)
        assert len(found) == 5
        assert [event.key for event in found] == sorted(event.key for event in found)
        assert len({event.key[0] for event in found}) == 3


    def test_backward_pages_span_rotated_files_newest_first(self, tmp_path: Path) -> None:
        """A page of the last events reads the newest file first and older ones only for room:
        every page is the same as the last events of the whole log before its key."""
        records = [(STREAM, [(index, False, b"event %02d %s\n" % (index, b"z" * 80))]) for index in range(9)]
        size = len(log_records.encode(*records[0], b"event 00 " + b"z" * 80 + b"\n"))
        write(tmp_path / "fn", *records, max_bytes=log_records.FILE_HEADER + 2 * size)
        every = events(tmp_path)
        assert len({event.key[0] for event in every}) >= 3  # the page spans files
        with GroupLogReader(tmp_path, "/aws/lambda/fn") as reader:
            for limit in (1, 2, 3, 5, 9, 20):
                assert backward_page(reader, Selection(), None, limit, 1 << 20) == every[-limit:]
                for at in range(len(every)):
                    assert backward_page(reader, Selection(), every[at].key, limit, 1 << 20) == \
                        every[max(0, at - limit):at]
            assert backward_page(reader, Selection(), None, 100, 3 * every[0].size) == every[-3:]
            odd = Selection(matches=lambda text: int(text.split()[1]) % 2 == 1)
            assert backward_page(reader, odd, None, 3, 1 << 20) == [e for e in every if e in events(
                tmp_path, selection=odd)][-3:]


class TestSummaries:
    def test_streams_have_their_first_and_last_times(self, tmp_path: Path) -> None:
        write(tmp_path / "fn", ("b", [(5, False, b"x\n")]), ("a", [(7, False, b"x\n"), (9, True, b"y\n")]),
              ("b", [(11, False, b"x\n")]))
        with GroupLogReader(tmp_path, "/aws/lambda/fn") as reader:
            assert [(summary.name, summary.first, summary.last) for summary in stream_summaries(reader)] == [
                ("a", 7, 9), ("b", 5, 11)]

    def test_groups_are_the_functions_with_logs(self, tmp_path: Path) -> None:
        write(tmp_path / "one", (STREAM, [(42, False, b"x\n")]))
        write(tmp_path / "two", (STREAM, [(43, False, b"x\n")]))
        (tmp_path / "not a function").mkdir()
        groups = group_summaries(tmp_path)
        assert [(group.group, group.created) for group in groups] == [("/aws/lambda/one", 42), ("/aws/lambda/two", 43)]
        assert groups[0].stored_bytes == (tmp_path / "one" / LOG_FILE).stat().st_size


class TestOlderFiles:
    def test_a_raw_log_is_still_read_and_is_rotated_before_records_follow_it(self, tmp_path: Path) -> None:
        directory = tmp_path / "fn"
        directory.mkdir()
        (directory / LOG_FILE).write_bytes(b"START RequestId: old\nold output\n")
        assert read_logs(tmp_path, "fn") == b"START RequestId: old\nold output\n"
        write(directory, (STREAM, [(1, True, b"START RequestId: new\n")]))
        assert read_logs(tmp_path, "fn") == b"START RequestId: old\nold output\nSTART RequestId: new\n"
        assert (directory / f"{LOG_FILE}.1").read_bytes() == b"START RequestId: old\nold output\n"
        assert texts(events(tmp_path)) == ["START RequestId: new"]  # raw text holds no events

    def test_a_record_torn_by_a_crash_is_never_appended_to(self, tmp_path: Path) -> None:
        directory = tmp_path / "fn"
        write(directory, (STREAM, [(1, False, b"whole\n")]), (STREAM, [(2, False, b"torn away\n")]))
        path = directory / LOG_FILE
        os.truncate(path, path.stat().st_size - 3)
        assert texts(events(tmp_path)) == ["whole"]
        write(directory, (STREAM, [(3, False, b"after the crash\n")]))
        assert texts(events(tmp_path)) == ["whole", "after the crash"]
        assert read_logs(tmp_path, "fn") == b"whole\nafter the crash\n"

    def test_a_record_a_failed_write_left_in_part_is_never_appended_to(self, tmp_path: Path) -> None:
        script = """
import resource, signal, sys
from pathlib import Path
from strato.functions import log_records
from strato.functions.logs import GroupLog, LOG_FILE

def record(text):
    return log_records.encode("s", [(1, False, text)], text)

directory = Path(sys.argv[1])
log = GroupLog(directory)
log.write(record(b"whole\\n"))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails as a full disk does
resource.setrlimit(resource.RLIMIT_FSIZE, ((directory / LOG_FILE).stat().st_size + 10, resource.RLIM_INFINITY))
try:
    log.write(record(b"cut short\\n"))
except OSError:
    pass
else:
    sys.exit("the write did not fail")
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
log.write(record(b"after the failure\\n"))
log.close()
"""
        subprocess.run([sys.executable, "-c", script, str(tmp_path / "fn")], check=True)
        assert texts(events(tmp_path)) == ["whole", "after the failure"]
        assert read_logs(tmp_path, "fn") == b"whole\nafter the failure\n"
