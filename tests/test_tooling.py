"""The strict tools are part of the suite: a lint, type or boundary error fails CI like a bug."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        pytest.param([str(BIN / "ruff"), "check", "src", "tests", "bench"], id="ruff"),
        pytest.param([sys.executable, "-m", "mypy"], id="mypy-strict"),
        pytest.param([str(BIN / "lint-imports")], id="import-boundaries"),
    ],
)
def test_the_code_passes(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
