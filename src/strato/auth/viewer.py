"""The viewer a request to strato's S3 is made for, vouched for by strato's own edge.

The default distribution (`http://edge/<bucket>/<key>`) is strato's public bucket website: it
asks S3 anonymously on a viewer's behalf, from loopback, and a bucket policy's aws:SourceIp and
aws:SecureTransport are meant for that viewer, not for the edge. The edge says who the viewer
is in one field, with an HMAC under the root secret (with a domain prefix of its own, so that
it is no other signature) over the claim and the time it was made: no one without the root
keys can claim an address, and a claim is good for a few minutes only. A request without a
valid one is its connection's, as before.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from strato.auth.credentials import Identity
from strato.digits import is_digits

FIELD = "x-strato-viewer"
MAX_SKEW = 300  # seconds a claim stays good, either way of the clock
_DOMAIN = b"strato viewer\0"


def vouch(access_key: str, secret: str, address: str, https: bool, now: float) -> str:
    """The field's value, by the root keys: `address scheme time access-key mac`."""
    claim = f"{address} {'https' if https else 'http'} {int(now)}"
    return f"{claim} {access_key} {_mac(secret, claim)}"


def vouched(value: str, lookup: Callable[[str], Identity | None], now: float) -> tuple[str, str] | None:
    """The viewer's (address, scheme) the field vouches for, or None when the root keys did not
    make it (a function's keys cannot), or not within MAX_SKEW of `now`."""
    parts = value.split(" ")
    if len(parts) != 5:
        return None
    address, scheme, made, access_key, mac = parts
    identity = lookup(access_key)
    if identity is None or identity.function is not None or scheme not in ("http", "https") or not address:
        return None
    if not is_digits(made) or abs(now - int(made)) > MAX_SKEW:
        return None
    if not hmac.compare_digest(mac, _mac(identity.secret_key, f"{address} {scheme} {made}")):
        return None
    return address, scheme


def _mac(secret: str, claim: str) -> str:
    return hmac.new(secret.encode(), _DOMAIN + claim.encode(), hashlib.sha256).hexdigest()
