"""Reading an operation's JSON input against the constraints of botocore's CloudWatch Logs
model (InvalidParameterException when one fails), and the log group / stream names and
tokens it carries. A function's log group is `/aws/lambda/NAME`."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from strato import jsontext
from strato.account import ACCOUNT_ID

from .errors import LogsError, bad_token, invalid_parameter

_KEY = re.compile(r"(-?\d{1,19})/(-?\d{1,19})/(-?\d{1,9})")
GROUP_NAME = re.compile(r"[.\-_/#A-Za-z0-9]{1,512}")
_TAG_KEY = re.compile(r"[\w\s.:/=+\-@]{1,128}")
_TAG_VALUE = re.compile(r"[\w\s.:/=+\-@]*")
MAX_TAGS = 50

Key = tuple[int, int, int]


class Params:
    """One operation's input object."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def text(self, name: str, *, required: bool = False, low: int = 1, high: int = 512) -> str | None:
        value = self.document.get(name)
        if value is None:
            if required:
                raise _violation(None, name, "Member must not be null")
            return None
        if not isinstance(value, str):
            raise invalid_parameter(f"{name} must be a string.")
        if not low <= len(value) <= high:
            raise _violation(value, name, f"Member must have length between {low} and {high}")
        return value

    def number(self, name: str, low: int | None = None, high: int | None = None, *,
               required: bool = False) -> int | None:
        value = self.document.get(name)
        if value is None:
            if required:
                raise _violation(None, name, "Member must not be null")
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise invalid_parameter(f"{name} must be a number.")
        if low is not None and value < low:
            raise _violation(value, name, f"Member must have value greater than or equal to {low}")
        if high is not None and value > high:
            raise _violation(value, name, f"Member must have value less than or equal to {high}")
        return value

    def flag(self, name: str, *, required: bool = False) -> bool:
        if required and self.document.get(name) is None:
            raise _violation(None, name, "Member must not be null")
        value = self.document.get(name, False)
        if not isinstance(value, bool):
            raise invalid_parameter(f"{name} must be a boolean.")
        return value

    def texts(self, name: str, high: int, low: int = 1) -> list[str] | None:
        value = self.document.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise invalid_parameter(f"{name} must be a list of strings.")
        if not low <= len(value) <= high:
            raise _violation(value, name, f"Member must have length between {low} and {high}")
        return value

    def choice(self, name: str, values: tuple[str, ...]) -> str | None:
        """One of an enum's `values` (None: not given)."""
        value = self.text(name)
        if value is not None and value not in values:
            raise _violation(value, name, f"Member must satisfy enum value set: [{', '.join(values)}]")
        return value

    def group_name(self) -> str:
        """The log group logGroupName or logGroupIdentifier (a name or ARN) names."""
        name = self.text("logGroupName")
        identifier = self.text("logGroupIdentifier", high=2048)
        if name is not None and identifier is not None:
            # AWS answers this one with ValidationException, not InvalidParameterException
            # (LocalStack's test_logs_streams snapshot, error-both-name-and-identifier)
            raise LogsError("ValidationException", "LogGroup name and LogGroup ARN are mutually exclusive parameters.")
        if identifier is not None:
            name = group_of_arn(identifier)
        if name is None:
            raise invalid_parameter("Either logGroupName or logGroupIdentifier must be specified.")
        return name

    def tags(self, name: str, *, required: bool = True) -> dict[str, str] | None:
        """A tag map: 1 to 50 tags, keys of 1 to 128 characters, values of at most 256."""
        value = self.document.get(name)
        if value is None:
            if required:
                raise _violation(None, name, "Member must not be null")
            return None
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise invalid_parameter(f"{name} must be a map of strings.")
        if not 1 <= len(value) <= MAX_TAGS:
            raise _violation(value, name, f"Member must have length between 1 and {MAX_TAGS}")
        for key, text in value.items():
            if not _TAG_KEY.fullmatch(key) or len(text) > 256 or not _TAG_VALUE.fullmatch(text):
                raise invalid_parameter(f"Invalid tag: {key!r}.")
        return value


def _violation(value: object, member: str, constraint: str) -> Exception:
    shown = "null" if value is None else f"'{value}'"
    return invalid_parameter(f"1 validation error detected: Value {shown} at '{member}' failed to satisfy "
                             f"constraint: {constraint}")


def group_of_arn(identifier: str) -> str:
    """The log group a logGroupIdentifier names: itself, or the group of its ARN."""
    if not identifier.startswith("arn:"):
        return identifier
    parts = identifier.split(":", 6)
    if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group":
        raise invalid_parameter(f"Invalid log group ARN: {identifier}")
    return parts[6].removesuffix(":*")


def group_arn(region: str, group: str) -> str:
    return f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{group}"


def event_token(direction: str, key: Key) -> str:
    """A token naming an event's place: `f` (after it), `b` (before it) or `n` (FilterLogEvents)."""
    return f"{direction}/{key[0]}/{key[1]}/{key[2]}"


def parse_event_token(token: str, directions: str) -> tuple[str, Key]:
    direction, _, rest = token.partition("/")
    found = _KEY.fullmatch(rest)
    if direction not in directions or len(direction) != 1 or found is None:
        raise bad_token()
    return direction, (int(found[1]), int(found[2]), int(found[3]))


def list_token(after: list[Any]) -> str:
    """An opaque token for the item a listing page ended with (its sort key)."""
    return base64.urlsafe_b64encode(json.dumps(after).encode()).decode()


def parse_list_token(token: str) -> list[Any]:
    try:
        value = jsontext.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad_token() from None
    if not isinstance(value, list):
        raise bad_token()
    return value
