"""What policies (cache, origin request, response headers) share: the way a policy selects a
request's headers, cookies or query strings, how a custom policy's name, comment and selections
are checked, and the fixed LastModifiedTime and ETag strato gives AWS's managed ones, since
nobody can change them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .errors import InvalidArgument

# A fixed instant (2020-05-31T00:00:00Z, the API version's date): managed policies never change here.
LAST_MODIFIED = 1590883200.0
_ETAG_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass(frozen=True, slots=True)
class Selection:
    """A HeadersConfig, CookiesConfig or QueryStringsConfig: its behavior (`none`, `whitelist`,
    `allExcept`, `all`, and for headers of origin request policies `allViewer` and
    `allViewerAndWhitelistCloudFront`) and the names it lists, as AWS spells them."""

    behavior: str
    names: tuple[str, ...] = ()

    @property
    def every(self) -> bool:
        """Whether it takes every value the viewer sent (but those an `allExcept` names)."""
        return self.behavior in ("all", "allExcept", "allViewer", "allViewerAndWhitelistCloudFront")


NONE = Selection("none")
ALL = Selection("all")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")
_LISTED = ("whitelist", "allExcept", "allViewerAndWhitelistCloudFront")  # the behaviours that name names


def check_policy(name: str, comment: str, selections: tuple[tuple[str, Selection, tuple[str, ...], int], ...],
                 kind: str) -> None:
    """A custom policy's Name and Comment, and each (label, selection, behaviours allowed, most
    names) it holds, refused as CloudFront refuses them (InvalidArgument; too many names, which
    CloudFront answers with its TooMany... quota error, too)."""
    if not _NAME.fullmatch(name):
        raise InvalidArgument("The parameter Name must be 1 to 128 letters, digits, hyphens or underscores.")
    if len(comment) > 128:
        raise InvalidArgument("The parameter Comment is too long (at most 128 characters).")
    for label, selection, behaviors, most in selections:
        if selection.behavior not in behaviors:
            raise InvalidArgument(f"The behavior {selection.behavior} is not valid for {label}: use one of "
                                  f"{', '.join(behaviors)}.")
        if (selection.behavior in _LISTED) != bool(selection.names):
            raise InvalidArgument(f"The {label} of a {kind} are listed with {' or '.join(_LISTED)}, and only then.")
        if len(selection.names) > most:
            raise InvalidArgument(f"A {kind} holds at most {most} {label}.")


def refuse_headers(headers: Selection, refused: tuple[str, ...], kind: str, instead: str) -> None:
    """A custom policy's whitelisted headers naming one CloudFront will not take there (lower-case
    `refused`, any case sent), refused as CloudFront refuses it (InvalidArgument); `instead` says
    what does. Those an `allExcept` names are kept from the origin: any may be."""
    for name in headers.names if headers.behavior == "whitelist" else ():
        if name.lower() in refused:
            raise InvalidArgument(f"The parameter Headers of a {kind} cannot name {name}: {instead}.")


def managed_etag(policy_id: str) -> str:
    """A stable ETag in CloudFront's form (`E` and 13 letters or digits) for a managed policy."""
    digest = hashlib.sha256(policy_id.encode()).digest()
    return "E" + "".join(_ETAG_LETTERS[byte % len(_ETAG_LETTERS)] for byte in digest[:13])
