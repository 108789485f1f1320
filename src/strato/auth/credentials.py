"""Access keys and their secrets. Root keys come from the environment or are generated once
and stored in the data dir with mode 0600; there is no built-in default.

Each function has keys of its own, which its code is given (as Lambda gives a function its
execution role's): the access key names the function, the secret is an HMAC of it under the
root secret. Nothing is stored; whoever holds them signs as that function and nothing more,
and the root secret cannot be recovered from them. What a function's keys may do is decided
by each service (`Identity.function`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .errors import AuthError

ACCESS_KEY_ALPHABET = string.ascii_uppercase + string.digits
FUNCTION_KEY_PREFIX = "STRATOFN"  # then the function's name
FUNCTION_PRINCIPAL = "function/"  # then the function's name
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # Lambda's function names
_FUNCTION_SECRET = b"strato function secret\0"


@dataclass(frozen=True, slots=True)
class Identity:
    access_key: str
    secret_key: str
    principal: str

    @property
    def function(self) -> str | None:
        """The function whose own keys these are; None for the root keys."""
        if self.principal.startswith(FUNCTION_PRINCIPAL):
            return self.principal[len(FUNCTION_PRINCIPAL):]
        return None


class CredentialStore(Protocol):
    def lookup(self, access_key: str) -> Identity | None: ...


def function_identity(root: Identity, function_name: str) -> Identity:
    """The keys a function's code is given."""
    access = FUNCTION_KEY_PREFIX + function_name
    digest = hmac.new(root.secret_key.encode(), _FUNCTION_SECRET + access.encode(), hashlib.sha256).digest()
    return Identity(access, base64.urlsafe_b64encode(digest).decode().rstrip("="), FUNCTION_PRINCIPAL + function_name)


def refuse_function(identity: Identity, action: str, resource: str) -> None:
    """A function's own keys are for S3 and for invoking functions, as an execution role for
    them would allow: a service's other actions signed with them are refused (AccessDenied)."""
    if identity.function is not None:
        raise AuthError("AccessDenied", f"User: function {identity.function} is not authorized to perform: {action} "
                        f"on resource: {resource}: a function's own keys allow only S3 and lambda:InvokeFunction")


class AccountCredentials:
    """The root keys, and the own keys of every function that exists (derived from the root's
    when asked for): a deleted function's keys are unknown at once, as are keys made up for a
    function that never was (refused before any body is read)."""

    def __init__(self, root: Identity, function_exists: Callable[[str], bool]) -> None:
        self.root = root
        self.function_exists = function_exists

    def lookup(self, access_key: str) -> Identity | None:
        if access_key == self.root.access_key:
            return self.root
        name = access_key[len(FUNCTION_KEY_PREFIX):]
        if access_key.startswith(FUNCTION_KEY_PREFIX) and _FUNCTION_NAME.fullmatch(name) and self.function_exists(name):
            return function_identity(self.root, name)
        return None


def generate_root() -> tuple[str, str]:
    """Random root keys. The access key never begins as a function's does: STRATOFN followed by
    a name would take that name's function key, and the function's own keys would not work."""
    access = FUNCTION_KEY_PREFIX
    while access.startswith(FUNCTION_KEY_PREFIX):
        access = "STRATO" + "".join(secrets.choice(ACCESS_KEY_ALPHABET) for _ in range(14))
    return access, secrets.token_urlsafe(30)


def load_or_create_root(path: Path) -> tuple[str, str, bool]:
    """Root keys stored at `path`; created (0600) when missing. Returns (access, secret, created);
    ValueError when the file holds no keys (damaged, or edited by hand)."""
    try:
        stored = json.loads(path.read_text())
        return stored["access_key"], stored["secret_key"], False
    except FileNotFoundError:
        pass
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"cannot read the root keys in {path} ({type(exc).__name__}: {exc}): mend the file, "
                         "or move it away to have new keys made") from None
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
