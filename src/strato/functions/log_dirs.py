"""Where log groups' files are, under the functions' logs directory: a function's own group
(`/aws/lambda/NAME`) in the function's directory, as before groups could be named; any other
group (a LoggingConfig.LogGroup, which several functions may share) in a directory named by
its name's digest, under CUSTOM_GROUPS (which no function name can be), holding its name.
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

from .records import OWN_LOG_GROUP

_NAME = re.compile(r"[A-Za-z0-9_-]{1,140}")
CUSTOM_GROUPS = ".groups"
GROUP_FILE = "group"  # in the directory of a group of no function's own: its name


def function_directory(logs_dir: Path, function_name: str) -> Path:
    """Where the log files of a function's own group are; refuses what is not a function name."""
    if not _NAME.fullmatch(function_name):
        raise ValueError(f"not a function name: {function_name!r}")
    return logs_dir / function_name


def group_function(group: str) -> str | None:
    """The function whose own log group `group` is (None: a group of no function's own)."""
    name = group.removeprefix(OWN_LOG_GROUP)
    return name if group.startswith(OWN_LOG_GROUP) and _NAME.fullmatch(name) else None


def group_directory(logs_dir: Path, group: str) -> Path:
    """Where a log group's files are: a function's own group's in the function's directory, any
    other group's (a LoggingConfig.LogGroup, which several functions may share) in a directory
    named by its name's digest, which holds its name in GROUP_FILE."""
    function = group_function(group)
    if function is not None:
        return logs_dir / function
    return logs_dir / CUSTOM_GROUPS / hashlib.sha256(group.encode()).hexdigest()


def function_streams(function_name: str) -> Callable[[str], bool]:
    """Whether a stream of a shared group is one of the function's: Lambda names those
    YYYY/MM/DD/NAME[VERSION][GUID] (variables.environment_variables)."""
    shape = re.compile(r"\d{4}/\d\d/\d\d/" + re.escape(function_name) + r"\[")
    return lambda stream: shape.match(stream) is not None


def write_group_name(directory: Path, group: str) -> None:
    """A shared group's directory holds its name (written whole, once)."""
    path = directory / GROUP_FILE
    if not path.exists():
        temporary = directory / f".{GROUP_FILE}.{os.getpid()}"
        temporary.write_text(group)
        os.replace(temporary, path)
