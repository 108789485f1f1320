"""What AWS's managed policies (cache, origin request, response headers) share: the way a
policy selects a request's headers, cookies or query strings, and the fixed LastModifiedTime
and ETag strato gives them, since nobody can change them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

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


def managed_etag(policy_id: str) -> str:
    """A stable ETag in CloudFront's form (`E` and 13 letters or digits) for a managed policy."""
    digest = hashlib.sha256(policy_id.encode()).digest()
    return "E" + "".join(_ETAG_LETTERS[byte % len(_ETAG_LETTERS)] for byte in digest[:13])
