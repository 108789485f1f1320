"""When strato is not root, environments still get their own user, mount and pid namespaces:
the data dir stays hidden (though the uid could read it on the host), /tmp is private, and the
mounts that hide things cannot be undone. Run by dropping to `nobody` with the system's Python
(strato's own interpreter may live where `nobody` cannot read)."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functions.environments import launch_in_child

NOBODY = 65534
INTERPRETER = "/usr/bin/python3.11"
SOURCE = Path(__file__).resolve().parents[2] / "src"
HANDLER = '''
import ctypes, os

def handler(event, context):
    libc = ctypes.CDLL(None, use_errno=True)
    undone = libc.umount2(b"/tmp", 2)
    try:
        data = open(os.path.join(event["hidden"], "secret")).read()
    except OSError as e:
        data = e.errno
    try:
        with open(os.path.join(event["owned"], "planted"), "w") as planted:
            planted.write("a function was here")
        written = 0
    except OSError as e:
        written = e.errno
    status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines())
    return {"capabilities": status["CapEff"], "uid": os.getuid(), "pid": os.getpid(),
            "tmp": os.listdir("/tmp"), "data": data, "umount": [undone, ctypes.get_errno()],
            "written": written}
'''


def _nobody_can_run_strato() -> bool:
    if os.geteuid() != 0 or not os.path.exists(INTERPRETER):
        return False
    check = subprocess.run([INTERPRETER, "-c", "import strato.functions.isolated"], user=NOBODY, group=NOBODY,
                           extra_groups=[], env={"PYTHONPATH": str(SOURCE)}, capture_output=True, check=False)
    return check.returncode == 0


pytestmark = pytest.mark.skipif(not _nobody_can_run_strato(),
                                reason=f"needs root (to become nobody) and {INTERPRETER} readable by nobody")


@pytest.fixture
def base() -> Iterator[Path]:
    """Outside /tmp and readable by everyone, so that only the sandbox can hide what it hides."""
    directory = Path(tempfile.mkdtemp(prefix="strato-unprivileged-", dir="/run"))
    directory.chmod(0o755)
    for name in ("work", "hidden", "code", "owned"):
        (directory / name).mkdir(mode=0o755)
    os.chown(directory / "work", NOBODY, NOBODY)
    os.chown(directory / "owned", NOBODY, NOBODY)  # strato's uid may write there on the host
    (directory / "hidden" / "secret").write_text("readable by anyone on the host")
    (directory / "code" / "app.py").write_text(HANDLER)
    yield directory
    shutil.rmtree(directory)


def test_an_unprivileged_strato_still_isolates_its_environments(base: Path) -> None:
    started, payload, ended = asyncio.run(launch_in_child(
        [INTERPRETER], base, "python3.11", {"hidden": str(base / "hidden"), "owned": str(base / "owned")},
        user=NOBODY, group=NOBODY, extra_groups=[], env={"PYTHONPATH": str(SOURCE)}))
    answer = json.loads(payload)
    assert "+user" in str(started["protections"])
    assert "WARNING: not root" in str(started["protections"])
    assert answer["uid"] == NOBODY
    assert int(answer["capabilities"], 16) == 0
    assert answer["pid"] == 2
    assert answer["tmp"] == []
    assert answer["data"] in (errno.ENOENT, errno.EACCES)
    assert answer["umount"] == [-1, errno.EPERM]
    assert answer["written"] == errno.EROFS  # strato's own uid owns that dir, yet the host tree is sealed
    assert not (base / "owned" / "planted").exists()
    assert ended["status"] == -9
