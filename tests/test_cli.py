"""The command line as an operator types it: mistakes are said in one line, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def strato(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "strato", *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd)


@pytest.mark.parametrize("args", [
    ("serve", "--port", "70000"), ("serve", "--edge-port", "-1"), ("serve", "--port", "http"),
    ("edge", "--origin", "http://127.0.0.1:9", "--port", "65536"),
])
def test_a_port_out_of_range_is_refused_by_the_command_line(args: tuple[str, ...], tmp_path: Path) -> None:
    done = strato(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "a port is a number from 0 to 65535" in done.stderr
    assert list(tmp_path.iterdir()) == [], "refused before making a data or cache dir"


def test_logs_from_a_directory_without_the_data_dir_say_where_they_looked(tmp_path: Path) -> None:
    """Not silence: `strato logs` run elsewhere than `strato serve` finds no ./strato-data."""
    done = strato("logs", "hello", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == f"strato: no data dir at {tmp_path / 'strato-data'}: give --data-dir or STRATO_DATA_DIR\n"


def test_logs_of_a_function_that_has_none_say_so(tmp_path: Path) -> None:
    (tmp_path / "strato-data").mkdir()
    done = strato("logs", "hello", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith(f"strato: no logs for function hello in {tmp_path / 'strato-data'}"), done.stderr


def test_an_edge_access_log_that_cannot_be_opened_is_refused_in_one_line(tmp_path: Path) -> None:
    done = strato("edge", "--origin", "http://127.0.0.1:9", "--port", "0", "--cache-dir", str(tmp_path / "cache"),
                  "--access-log", str(tmp_path / "no-such-dir" / "access.log"), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.endswith(f"strato: cannot open the edge access log {tmp_path / 'no-such-dir' / 'access.log'}: "
                                "No such file or directory\n"), done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("count", ["0", "-5", "lots"])
def test_logs_of_no_bytes_are_refused_by_the_command_line(tmp_path: Path, count: str) -> None:
    """Not "no logs of hello" for a function that has some."""
    (tmp_path / "strato-data").mkdir()
    done = strato("logs", "hello", "--bytes", count, cwd=tmp_path)
    assert done.returncode == 2
    assert "a number of bytes, at least 1" in done.stderr
