"""Verifying a SigV4-signed request against the known keys, for every service's protocol
layer (S3, Lambda): find the key the credential scope names, then check the signature."""

from __future__ import annotations

from strato.auth import sigv4
from strato.auth.credentials import CredentialStore, Identity
from strato.auth.errors import AuthError


def unknown_key() -> AuthError:
    return AuthError("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")


def verify_v4(
    credentials: CredentialStore, auth: sigv4.Authorization, *, method: str, raw_path: bytes, raw_query: bytes,
    headers: list[tuple[str, str]], header_map: dict[str, str], query: dict[str, str], now: float,
    body_sha256: str | None = None,
) -> tuple[Identity, sigv4.Verified]:
    """The identity whose key signed the request; raises AuthError. `body_sha256` as in sigv4.verify."""
    identity = credentials.lookup(auth.scope.access_key)
    if identity is None:
        raise unknown_key()
    verified = sigv4.verify(
        auth, identity.secret_key, method=method, raw_path=raw_path, raw_query=raw_query, headers=headers,
        header_map=header_map, query=query, now=now, body_sha256=body_sha256,
    )
    return identity, verified
