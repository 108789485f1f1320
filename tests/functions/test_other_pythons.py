"""A Python runtime other than strato's own interpreter: its own zygote, in the same sandbox,
with boto3 from strato's pure-Python packages. Each interpreter version found on this host (on
PATH, or installed by pyenv) is put on a child strato's PATH, so that strato finds it."""

from __future__ import annotations

import asyncio
import glob
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functions.environments import launch_in_child

OWN = f"{sys.version_info.major}.{sys.version_info.minor}"
HANDLER = '''
import os, sys
import boto3

def handler(event, context):
    boto3.client("s3", region_name="us-east-1")
    return {"version": "%d.%d" % sys.version_info[:2], "uid": os.getuid(), "pid": os.getpid()}
'''


def _interpreter(version: str) -> str | None:
    found = shutil.which(f"python{version}")
    installed = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    for candidate in [*installed, *([found] if found else [])]:
        if os.access(candidate, os.X_OK) and "shims" not in candidate:
            return candidate
    return None


OTHERS = {v: p for v in ("3.11", "3.12", "3.13") if v != OWN and (p := _interpreter(v)) is not None}


@pytest.fixture
def base() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="strato-other-python-"))
    directory.chmod(0o755)
    for name in ("work", "hidden", "code"):
        (directory / name).mkdir(mode=0o755)
    (directory / "code" / "app.py").write_text(HANDLER)
    yield directory
    shutil.rmtree(directory)


@pytest.mark.skipif(not OTHERS, reason="no Python 3.11-3.13 besides strato's own on this host")
@pytest.mark.parametrize("version", sorted(OTHERS))
def test_a_function_runs_on_the_python_version_it_names(base: Path, version: str) -> None:
    path = f"{Path(OTHERS[version]).parent}{os.pathsep}{os.environ['PATH']}"
    started, payload, ended = asyncio.run(launch_in_child(
        [sys.executable], base, f"python{version}", {}, env={**os.environ, "PATH": path}))
    answer = json.loads(payload)
    assert answer["version"] == version
    if os.geteuid() == 0:
        assert "namespaces" in started["protections"]
        assert answer["uid"] != 0
        assert answer["pid"] == 2
    assert ended["status"] == -9
