"""Access keys and their secrets. Root keys come from the environment or are generated once
and stored in the data dir with mode 0600; there is no built-in default."""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

ACCESS_KEY_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True, slots=True)
class Identity:
    access_key: str
    secret_key: str
    principal: str


class CredentialStore(Protocol):
    def lookup(self, access_key: str) -> Identity | None: ...


class StaticCredentials:
    """A fixed set of keys (the root keys today; IAM users later)."""

    def __init__(self, identities: list[Identity]) -> None:
        self._by_key = {i.access_key: i for i in identities}

    def lookup(self, access_key: str) -> Identity | None:
        return self._by_key.get(access_key)


def generate_root() -> tuple[str, str]:
    access = "STRATO" + "".join(secrets.choice(ACCESS_KEY_ALPHABET) for _ in range(14))
    return access, secrets.token_urlsafe(30)


def load_or_create_root(path: Path) -> tuple[str, str, bool]:
    """Root keys stored at `path`; created (0600) when missing. Returns (access, secret, created)."""
    try:
        stored = json.loads(path.read_text())
        return stored["access_key"], stored["secret_key"], False
    except FileNotFoundError:
        pass
    access, secret = generate_root()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"access_key": access, "secret_key": secret}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return access, secret, True
