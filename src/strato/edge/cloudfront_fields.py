"""The CloudFront request headers the edge computes for origin requests (AWS CloudFront
DeveloperGuide/adding-cloudfront-headers.html): the viewer's device type from its User-Agent,
the protocol, HTTP version and address of its connection. A behaviour gets them where its
cache key or origin request policy names them; they are then computed for each request, so a
key holding one keys on the edge's value, never on one the viewer sent (viewers' fields of
these names are dropped: edge/rules.py).

Not computed, and so never sent: the location fields (CloudFront-Viewer-Country, -City,
-ASN...), which need a GeoIP database strato does not have; CloudFront-Viewer-TLS and the JA3
and JA4 fingerprints, since the edge speaks plain HTTP and sees no TLS handshake (behind a
TLS-terminating proxy neither does it); CloudFront-Viewer-Header-Order and -Header-Count,
since the HTTP server hands the edge the viewer's field names lower-cased.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from strato.http.types import Scope

FORWARDED_PROTO = "cloudfront-forwarded-proto"
VIEWER_ADDRESS = "cloudfront-viewer-address"
VIEWER_HTTP_VERSION = "cloudfront-viewer-http-version"
IS_ANDROID = "cloudfront-is-android-viewer"
IS_DESKTOP = "cloudfront-is-desktop-viewer"
IS_IOS = "cloudfront-is-ios-viewer"
IS_MOBILE = "cloudfront-is-mobile-viewer"
IS_SMART_TV = "cloudfront-is-smarttv-viewer"
IS_TABLET = "cloudfront-is-tablet-viewer"
DEVICE_FIELDS = frozenset({IS_ANDROID, IS_DESKTOP, IS_IOS, IS_MOBILE, IS_SMART_TV, IS_TABLET})
COMPUTED = DEVICE_FIELDS | {FORWARDED_PROTO, VIEWER_ADDRESS, VIEWER_HTTP_VERSION}
PREFIX = "cloudfront-"  # every CloudFront request header's name starts so

# User-Agent tokens by device class. CloudFront does not publish its rules; these are the
# usual ones (TVs first: their browsers often also claim Android or Mobile; a Tizen browser
# is a TV's when TV follows it on its line: _tizen_tv).
_SMART_TV = re.compile(
    r"smart-?tv|smart tv|googletv|google tv|android tv|appletv|apple tv|hbbtv|netcast|web0s|webos\.tv"
    r"|bravia|roku|crkey|\baft[a-z]|philipstv|nettv", re.IGNORECASE)
_TIZEN = re.compile(r"tizen", re.IGNORECASE)
_TV = re.compile(r"\btv\b", re.IGNORECASE)
_TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook", re.IGNORECASE)
_MOBILE = re.compile(r"mobi|iphone|ipod|windows phone|blackberry|bb10|opera mini|symbian|nokia", re.IGNORECASE)
_ANDROID = re.compile(r"android", re.IGNORECASE)
_IOS = re.compile(r"iphone|ipad|ipod", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Viewer:
    """What the edge knows of the connection a request came on: the client's address and port,
    its HTTP version as ASGI spells it ("1.0", "1.1", "2"), and whether it counts as HTTPS."""

    address: str = ""
    port: int = 0
    http_version: str = "1.1"
    https: bool = False


def viewer_of(scope: Scope) -> Viewer:
    """The Viewer of an ASGI request (its scheme already says whether a trusted proxy's
    X-Forwarded-Proto made it HTTPS: edge/viewer.py)."""
    client = scope.get("client") or ("", 0)
    return Viewer(str(client[0]), int(client[1]), str(scope.get("http_version", "1.1")), scope.get("scheme") == "https")


def device_fields(user_agent: str) -> dict[str, str]:
    """AWS CloudFront DeveloperGuide/adding-cloudfront-headers.html (device type): each of the six
    fields `true` or `false` by the User-Agent; a tablet whose browser says Mobile (an iPad) is
    both; a viewer that is no phone, tablet or TV (or sends no User-Agent) is a desktop."""
    smart_tv = bool(_SMART_TV.search(user_agent)) or _tizen_tv(user_agent)
    android = bool(_ANDROID.search(user_agent))
    tablet = not smart_tv and (bool(_TABLET.search(user_agent)) or (android and "mobile" not in user_agent.lower()))
    mobile = not smart_tv and bool(_MOBILE.search(user_agent))
    flags = {IS_ANDROID: android, IS_IOS: bool(_IOS.search(user_agent)), IS_SMART_TV: smart_tv,
             IS_TABLET: tablet, IS_MOBILE: mobile, IS_DESKTOP: not (smart_tv or tablet or mobile)}
    return {name: "true" if flag else "false" for name, flag in flags.items()}


def _tizen_tv(user_agent: str) -> bool:
    """Whether a line of `user_agent` says Tizen and, after it, TV: what `tizen.*\\btv\\b` finds, in
    one pass over each line (the regex tries each Tizen against the rest of its line: time
    growing with the square of the field's length, 0.2 s for 15 kB a viewer may send)."""
    for line in user_agent.split("\n"):
        tizen = _TIZEN.search(line)
        if tizen is not None and _TV.search(line, tizen.end()):
            return True
    return False


def computed_fields(names: tuple[str, ...], user_agent: str, viewer: Viewer) -> dict[str, str]:
    """The values of `names` (lower-case, of COMPUTED) for a request: CloudFront-Forwarded-Proto
    `http` or `https`; CloudFront-Viewer-Http-Version as `1.1`, `2.0`...; CloudFront-Viewer-Address
    as the client's address, a colon and its port; the device fields (device_fields)."""
    devices = device_fields(user_agent) if not DEVICE_FIELDS.isdisjoint(names) else {}
    fields: dict[str, str] = {}
    for name in names:
        if name == FORWARDED_PROTO:
            fields[name] = "https" if viewer.https else "http"
        elif name == VIEWER_HTTP_VERSION:
            fields[name] = viewer.http_version if "." in viewer.http_version else f"{viewer.http_version}.0"
        elif name == VIEWER_ADDRESS:
            if viewer.address:
                fields[name] = f"{viewer.address}:{viewer.port}"
        elif name in devices:
            fields[name] = devices[name]
    return fields
