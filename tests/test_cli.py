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
