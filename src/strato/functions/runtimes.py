"""Which Lambda runtimes this host can run, and which interpreter serves each.

python3.X needs that interpreter (the one strato itself runs on counts for its version);
provided and provided.al2023 run the zip's own `bootstrap` and need nothing but Linux;
nodejsN.x is the installed `node` of major version N (18 or later), running runtime_client.js.
Every runtime but Python's other versions starts from strato's own interpreter's zygote.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

PYTHON_VERSIONS = ("3.11", "3.12", "3.13")
PROVIDED = ("provided", "provided.al2023")
NODE_MINIMUM = 18
NODE_CLIENT = Path(__file__).with_name("runtime_client.js")


def runtime_version_arn(region: str, runtime: str) -> str:
    """RuntimeVersionConfig.RuntimeVersionArn: Lambda names a runtime's version by a 64-hex id;
    strato runs one version of each runtime (the host's), so the id is a digest of its name."""
    return f"arn:aws:lambda:{region}::runtime:{hashlib.sha256(runtime.encode()).hexdigest()}"


def runtime_version(runtime: str) -> str:
    """The version Lambda's INIT_START line names (`python:3.12.v27` in Lambda): the runtime's
    language and version, and strato's one version of it (`v1`)."""
    name = runtime.removesuffix(".x")
    language = name.rstrip("0123456789.").split(".")[0] or name
    version = name.removeprefix(language).lstrip(".")
    return f"{language}:{version}.v1" if version else f"{language}.v1"


def strato_client(runtime: str) -> bool:
    """Runtimes served by strato's own clients (runtime_client.py, runtime_client.js): each
    keeps its one Runtime API connection, takes a connected socket at launch, pipelines GET next
    behind its answers and marks where each invocation's output ends."""
    return runtime.startswith(("python", "nodejs"))


@functools.cache
def _interpreters() -> dict[str, str]:
    found = {}
    own = f"{sys.version_info.major}.{sys.version_info.minor}"
    for version in PYTHON_VERSIONS:
        path = sys.executable if version == own else _working_python(version)
        if path:
            found[f"python{version}"] = path
    return found


def _working_python(version: str) -> str | None:
    """The real executable of `pythonX.Y` on PATH, if it runs and is that version (a pyenv shim
    for a version not selected is on PATH but does not run)."""
    candidate = shutil.which(f"python{version}")
    if candidate is None:
        return None
    probe = "import sys; print(sys.executable); print('%d.%d' % sys.version_info[:2])"
    try:
        answer = subprocess.run([candidate, "-c", probe], capture_output=True, text=True, timeout=10, check=True)
        executable, actual = answer.stdout.split()
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return executable if actual == version else None


@functools.cache
def _node() -> tuple[str, str] | None:
    """(runtime name, path) of the installed node, when it is recent enough."""
    path = shutil.which("node")
    if path is None or not NODE_CLIENT.exists():
        return None
    try:
        version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, check=True).stdout
        major = int(version.strip().lstrip("v").split(".")[0])
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return (f"nodejs{major}.x", path) if major >= NODE_MINIMUM else None


def available_runtimes() -> frozenset[str]:
    node = _node()
    return frozenset([*_interpreters(), *PROVIDED, *([node[0]] if node else [])])


def interpreter_for(runtime: str) -> str:
    """The interpreter whose zygote starts environments of `runtime` (provided and Node.js
    runtimes exec their program from strato's own). KeyError for a runtime this host lacks."""
    if runtime in PROVIDED or runtime.startswith("nodejs"):
        return sys.executable
    return _interpreters()[runtime]


def program_for(runtime: str) -> list[str] | None:
    """The command a non-Python runtime's process execs (None: the zip's bootstrap)."""
    node = _node()
    if node is not None and runtime == node[0]:
        return [node[1], "-e", NODE_CLIENT.read_text()]
    return None
