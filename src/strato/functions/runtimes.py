"""Which Lambda runtimes this host can run, and which interpreter serves each.

python3.X needs that interpreter (the one strato itself runs on counts for its version);
provided and provided.al2023 run the zip's own `bootstrap` and need nothing but Linux.
"""

from __future__ import annotations

import functools
import shutil
import sys

PYTHON_VERSIONS = ("3.11", "3.12", "3.13")
PROVIDED = ("provided", "provided.al2023")


@functools.cache
def _interpreters() -> dict[str, str]:
    found = {}
    own = f"{sys.version_info.major}.{sys.version_info.minor}"
    for version in PYTHON_VERSIONS:
        path = sys.executable if version == own else shutil.which(f"python{version}")
        if path:
            found[f"python{version}"] = path
    return found


def available_runtimes() -> frozenset[str]:
    return frozenset([*_interpreters(), *PROVIDED])


def interpreter_for(runtime: str) -> str:
    """The interpreter whose zygote starts environments of `runtime` (provided runtimes exec
    their bootstrap from strato's own). Raises KeyError for a runtime this host lacks."""
    if runtime in PROVIDED:
        return sys.executable
    return _interpreters()[runtime]
