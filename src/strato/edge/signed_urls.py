"""CloudFront signed URLs, verified as CloudFront does (AWS CloudFront Developer Guide, "Serve private
content with signed URLs": private-content-creating-signed-url-canned-policy / -custom-policy).

Signed as botocore.signers.CloudFrontSigner signs them: the signing parameters are appended to the
URL; a canned policy sends `Expires`, a custom one `Policy` (the policy JSON, base64); both send
`Signature` (RSA PKCS#1 v1.5, or a DER ECDSA signature for a P-256 key, over the policy JSON's SHA-1,
or its SHA-256 when `Hash-Algorithm=SHA256` follows) and `Key-Pair-Id`. Base64 is CloudFront's
URL-safe variant: '+' -> '-', '=' -> '_', '/' -> '~'.
"""

from __future__ import annotations

import base64
import binascii
import enum
import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from strato import jsontext
from strato.edge.rules import SIGNING_PARAMS

MAX_POLICY_BYTES = 16 * 1024
"""A bound on the decoded policy; CloudFront's own limit on a whole URL is 8 KiB."""
HASH_ALGORITHMS: dict[str, type[hashes.SHA1 | hashes.SHA256]] = {"SHA1": hashes.SHA1, "SHA256": hashes.SHA256}
"""Hash-Algorithm's values: what the policy is hashed with before it is signed (SHA1 when left out)."""


class Reason(enum.StrEnum):
    """Why a signed URL was refused (each is a 403 AccessDenied at CloudFront)."""

    MISSING_SIGNATURE = "missing-signature"
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown-key"
    BAD_SIGNATURE = "bad-signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    IP_NOT_ALLOWED = "ip-not-allowed"
    RESOURCE_MISMATCH = "resource-mismatch"


class SignedUrlError(Exception):
    """A signed URL that must not be honoured; `reason` says why (for logs, not for the client)."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail


@dataclass(slots=True)
class KeyGroup:
    """A CloudFront key group: public key id (the URL's Key-Pair-Id) -> RSA or ECDSA public key."""

    id: str
    public_keys: dict[str, RSAPublicKey | EllipticCurvePublicKey] = field(default_factory=dict)


def _split_query(url: str) -> tuple[str, str]:
    """(url before '?', query), any fragment dropped."""
    before, _, query = url.partition("#")[0].partition("?")
    return before, query


def strip_signing_params(url: str) -> str:
    """AWS CloudFront signed URLs: the URL without its signing parameters (SIGNING_PARAMS), as it was signed.

    The other query parameters keep their order and raw encoding; a query left empty loses its '?';
    a fragment (never sent by clients) is dropped.
    """
    before, query = _split_query(url)
    if not query:
        return url.partition("#")[0]
    kept = [p for p in query.split("&") if p.partition("=")[0] not in SIGNING_PARAMS]
    return f"{before}?{'&'.join(kept)}" if kept else before


def _signing_params(url: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in _split_query(url)[1].split("&"):
        name, _, value = pair.partition("=")
        if name in SIGNING_PARAMS:
            if name in params:
                raise SignedUrlError(Reason.MALFORMED, f"{name} given twice")
            params[name] = unquote(value)
    return params


def _b64decode(value: str, what: str) -> bytes:
    """AWS CloudFront: undo the URL-safe base64 ('-' '_' '~' for '+' '=' '/')."""
    std = value.replace("-", "+").replace("_", "=").replace("~", "/")
    try:
        return base64.b64decode(std, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignedUrlError(Reason.MALFORMED, f"{what} is not CloudFront base64") from exc


def canned_policy(resource: str, expires: int) -> bytes:
    """AWS CloudFront canned policy: the statement CloudFront rebuilds from the URL and Expires."""
    statement = {"Statement": [{"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}]}
    return json.dumps(statement, separators=(",", ":")).encode()


def _find_key(key_id: str, key_groups: Sequence[KeyGroup]) -> RSAPublicKey | EllipticCurvePublicKey:
    for group in key_groups:
        key = group.public_keys.get(key_id)
        if key is not None:
            return key
    raise SignedUrlError(Reason.UNKNOWN_KEY, key_id)


def _epoch(condition: Mapping[str, object], name: str) -> int | None:
    value = condition.get(name)
    if value is None:
        return None
    inner = value.get("AWS:EpochTime") if isinstance(value, dict) else None
    if not isinstance(inner, int) or isinstance(inner, bool):
        raise SignedUrlError(Reason.MALFORMED, f"{name} needs an integer AWS:EpochTime")
    return inner


def resource_matches(pattern: str, url: str) -> bool:
    """AWS CloudFront custom policy Resource: '*' matches any run of characters, '?' exactly one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, url, re.DOTALL) is not None


def _ip_allowed(source: object, client_ip: str | None) -> bool:
    if not isinstance(source, str):
        raise SignedUrlError(Reason.MALFORMED, "IpAddress needs an AWS:SourceIp string")
    try:
        network = ipaddress.ip_network(source, strict=False)
    except ValueError as exc:
        raise SignedUrlError(Reason.MALFORMED, f"bad AWS:SourceIp {source!r}") from exc
    if client_ip is None:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.version == network.version and address in network


def _parse_policy(policy: bytes) -> tuple[str | None, dict[str, object]]:
    """AWS CloudFront custom policy: (Resource or None, Condition) of its single statement."""
    try:
        document = jsontext.loads(policy)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SignedUrlError(Reason.MALFORMED, "policy is not JSON") from exc
    statements = document.get("Statement") if isinstance(document, dict) else None
    if not isinstance(statements, list) or len(statements) != 1 or not isinstance(statements[0], dict):
        raise SignedUrlError(Reason.MALFORMED, "policy needs exactly one Statement")
    resource = statements[0].get("Resource")
    condition = statements[0].get("Condition")
    if (resource is not None and not isinstance(resource, str)) or not isinstance(condition, dict):
        raise SignedUrlError(Reason.MALFORMED, "policy needs a string Resource and a Condition")
    return resource, condition


def verify_signed_url(url: str, key_groups: Sequence[KeyGroup], now: float, client_ip: str | None = None) -> None:
    """AWS CloudFront signed URLs (canned and custom policy): return if `url` may be served, else raise SignedUrlError.

    `url` is what the client asked for, scheme://host/path?query with the raw (still encoded) path
    and query. The signature is checked before the policy is believed. Time: valid while
    DateGreaterThan <= now < DateLessThan. A custom policy without Resource allows every URL, as
    CloudFront does; one with an IpAddress condition refuses a request of unknown `client_ip`.
    """
    params = _signing_params(url)
    if "Signature" not in params or not params.get("Key-Pair-Id"):  # an empty Key-Pair-Id is a missing one
        raise SignedUrlError(Reason.MISSING_SIGNATURE)
    unsigned = strip_signing_params(url)
    custom = "Policy" in params
    if custom:
        policy = _b64decode(params["Policy"], "Policy")
        if len(policy) > MAX_POLICY_BYTES:
            raise SignedUrlError(Reason.MALFORMED, "policy too large")
    elif "Expires" in params:
        expires = params["Expires"]
        if not (expires.isascii() and expires.isdigit()):
            raise SignedUrlError(Reason.MALFORMED, "Expires is not an epoch time")
        policy = canned_policy(unsigned, int(expires))
    else:
        raise SignedUrlError(Reason.MISSING_SIGNATURE, "neither Expires nor Policy")
    signature = _b64decode(params["Signature"], "Signature")
    algorithm = HASH_ALGORITHMS.get(params.get("Hash-Algorithm", "SHA1"))
    if algorithm is None:
        raise SignedUrlError(Reason.MALFORMED, "Hash-Algorithm is neither SHA1 nor SHA256")
    key = _find_key(params["Key-Pair-Id"], key_groups)
    try:
        if isinstance(key, RSAPublicKey):
            key.verify(signature, policy, padding.PKCS1v15(), algorithm())
        else:
            key.verify(signature, policy, ECDSA(algorithm()))
    except InvalidSignature as exc:
        raise SignedUrlError(Reason.BAD_SIGNATURE) from exc

    resource, condition = _parse_policy(policy)
    less_than = _epoch(condition, "DateLessThan")
    if less_than is None:
        raise SignedUrlError(Reason.MALFORMED, "policy needs DateLessThan")
    if now >= less_than:
        raise SignedUrlError(Reason.EXPIRED, f"expired at {less_than}")
    greater_than = _epoch(condition, "DateGreaterThan")
    if greater_than is not None and now < greater_than:
        raise SignedUrlError(Reason.NOT_YET_VALID, f"valid from {greater_than}")
    if "IpAddress" in condition:
        ip_condition = condition["IpAddress"]
        source = ip_condition.get("AWS:SourceIp") if isinstance(ip_condition, dict) else None
        if not _ip_allowed(source, client_ip):
            raise SignedUrlError(Reason.IP_NOT_ALLOWED, f"{client_ip} not in {source}")
    # A canned policy's Resource is the URL itself: the signature already proved it.
    if custom and resource is not None and not resource_matches(resource, unsigned):
        raise SignedUrlError(Reason.RESOURCE_MISMATCH, unsigned)


class TrustedKeys:
    """A cache behaviour's trusted key groups, checking requests for the proxy (rules.SignatureGuard)."""

    def __init__(self, key_groups: Sequence[KeyGroup]) -> None:
        self.key_groups = tuple(key_groups)

    def refusal(self, url: str, now: float, client_ip: str, cookie: str | None = None) -> str | None:
        try:
            verify_signed_url(with_cookie_signature(url, cookie), self.key_groups, now, client_ip or None)
        except SignedUrlError as error:
            return str(error.reason)
        return None


def key_groups_from_pem(groups: Mapping[str, Mapping[str, str]]) -> list[KeyGroup]:
    """Key groups from the registry's {group id: {public key id: PEM}}; a key that is neither an RSA
    nor an elliptic-curve public key is left out (no URL can be signed for it)."""
    loaded = []
    for group_id, keys in groups.items():
        group = KeyGroup(group_id)
        for key_id, pem in keys.items():
            try:
                key = load_pem_public_key(pem.encode())
            except ValueError:
                continue
            if isinstance(key, RSAPublicKey | EllipticCurvePublicKey):
                group.public_keys[key_id] = key
        loaded.append(group)
    return loaded


COOKIE_PARAMS = {f"CloudFront-{name}": name for name in SIGNING_PARAMS}


def with_cookie_signature(url: str, cookie: str | None) -> str:
    """AWS CloudFront signed cookies (private-content-setting-signed-cookie-canned-policy / -custom-policy):
    a URL that carries no Signature of its own is checked with the CloudFront-* cookies' values,
    which are what a signed URL's parameters would be."""
    if cookie is None or "Signature" in _signing_params(url):
        return url
    found = []
    for pair in re.split("[;,]", cookie):  # RFC 6265 4.2.1; "," where repeated Cookie lines were joined
        name, _, value = pair.strip().partition("=")
        if name in COOKIE_PARAMS:
            found.append(f"{COOKIE_PARAMS[name]}={value}")
    if not found:
        return url
    return f"{url}{'&' if '?' in url else '?'}{'&'.join(found)}"
