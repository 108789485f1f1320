"""CloudFront-style identifiers and ETags."""

from __future__ import annotations

import secrets
import string

from .errors import MissingIfMatch, PreconditionFailed

_ALPHABET = string.ascii_uppercase + string.digits


def new_id(prefix: str) -> str:
    """14 uppercase letters and digits starting with `prefix` (E for distributions and
    ETags, I for invalidations, K for public keys), like E2QWRUHEXAMPLE."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(14 - len(prefix)))


def require_etag(current: str, if_match: str | None) -> None:
    """A change must name the ETag it was made against, as CloudFront's If-Match does."""
    if not if_match:
        raise MissingIfMatch("The If-Match version is missing or not valid for the resource.")
    if if_match != current:
        raise PreconditionFailed("The precondition given in one or more of the request-header fields "
                                 "evaluated to false.")
