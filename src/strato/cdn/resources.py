"""Public keys, key groups, origin access controls and identities and custom cache, origin
request and response headers policies: the resources signed URLs, private origins and cache
behaviours need, kept beside the distributions in cdn.db with CloudFront's rules (ETag +
If-Match on change, unique names per kind, no deleting what is referred to)."""

from __future__ import annotations

import hashlib
import sqlite3
import time
import uuid
from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Any, Generic

from . import cache_policies, codec, origin_request_policies, response_headers_policies
from .cache_policies import CachePolicy, check_cache_policy
from .database import Database, bump_generation
from .errors import (
    CdnError,
    IllegalUpdate,
    ImmutablePublicKeyFields,
    InvalidArgument,
    NoSuchResource,
    ResourceAlreadyExists,
    ResourceInUse,
    TooManyPublicKeysInKeyGroup,
)
from .ids import new_id, require_etag
from .origin_request_policies import OriginRequestPolicy, check_origin_request_policy
from .records import (
    Behavior,
    C,
    KeyGroupConfig,
    OriginAccessControlConfig,
    OriginAccessIdentityConfig,
    PublicKeyConfig,
    Resource,
)
from .response_headers_policies import ResponseHeadersPolicy, check_response_headers_policy

MAX_KEYS_PER_GROUP = 5
SIGNING_BEHAVIORS = frozenset({"never", "always", "no-override"})
ORIGIN_TYPES = frozenset({"s3", "mediastore", "mediapackagev2", "lambda"})
MAX_COMMENT = 128  # a public key's, key group's or origin access identity's (API_PublicKeyConfig...)
MAX_OAC_NAME = 64  # API_OriginAccessControlConfig: "up to 64 characters"


def _check_comment(comment: str | None) -> None:
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidArgument(f"The parameter Comment is longer than {MAX_COMMENT} characters.")


def _check_public_key(config: PublicKeyConfig) -> None:
    # Imported here: OpenSSL's bindings cost every API worker ~9 MiB, and only this needs them.
    from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePublicKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(config.encoded_key.strip().encode())
    except (ValueError, TypeError):
        raise InvalidArgument("The parameter EncodedKey is not a PEM encoded public key.") from None
    # API_PublicKey: "signed URLs and signed cookies with RSA 2048 or ECDSA 256 key signatures".
    rsa_2048 = isinstance(key, RSAPublicKey) and key.key_size == 2048
    if not rsa_2048 and not (isinstance(key, EllipticCurvePublicKey) and isinstance(key.curve, SECP256R1)):
        raise InvalidArgument("The parameter EncodedKey must be a 2048-bit RSA or a P-256 ECDSA public key.")
    _check_comment(config.comment)


def _check_key_group(config: KeyGroupConfig) -> None:
    if not config.items:
        raise InvalidArgument(f"A key group holds 1 to {MAX_KEYS_PER_GROUP} public keys.")
    if len(config.items) > MAX_KEYS_PER_GROUP:
        raise TooManyPublicKeysInKeyGroup(f"A key group holds at most {MAX_KEYS_PER_GROUP} public keys.")
    _check_comment(config.comment)


def _check_origin_access_control(config: OriginAccessControlConfig) -> None:
    if not 1 <= len(config.name) <= MAX_OAC_NAME:
        raise InvalidArgument(f"The parameter Name must be 1 to {MAX_OAC_NAME} characters.")
    if config.signing_protocol != "sigv4":
        raise InvalidArgument("The parameter SigningProtocol must be sigv4.")
    if config.signing_behavior not in SIGNING_BEHAVIORS:
        raise InvalidArgument("The parameter SigningBehavior must be never, always or no-override.")
    if config.origin_type not in ORIGIN_TYPES:
        raise InvalidArgument(f"The parameter OriginAccessControlOriginType has an invalid value: "
                              f"{config.origin_type}")


def _check_origin_access_identity(config: OriginAccessIdentityConfig) -> None:
    if not config.caller_reference:
        raise InvalidArgument("The parameter CallerReference is required.")
    _check_comment(config.comment)


@dataclass(frozen=True, slots=True)
class Kind(Generic[C]):
    """One kind of resource: how its config is stored, named, checked and what it refers to."""

    name: str
    config_type: type[C]
    new_id: Callable[[], str]
    check: Callable[[C], None]
    refers_to: Callable[[C], tuple[str, ...]] = lambda config: ()
    fixed: Callable[[C], tuple[str, ...]] = lambda config: ()  # fields an update must not change
    changed: type[CdnError] = IllegalUpdate  # the error for an update changing them
    # A create repeating an earlier one's name (its CallerReference) and config answers that
    # resource instead of refusing it (CloudFront's rule for origin access identities).
    replayable: bool = False


PUBLIC_KEY = Kind("public-key", PublicKeyConfig, lambda: new_id("K"), _check_public_key,
                  fixed=lambda config: (config.caller_reference, config.encoded_key), changed=ImmutablePublicKeyFields)
KEY_GROUP = Kind("key-group", KeyGroupConfig, lambda: str(uuid.uuid4()), _check_key_group,
                 lambda config: config.items)
ORIGIN_ACCESS_CONTROL = Kind("origin-access-control", OriginAccessControlConfig, lambda: new_id("E"),
                             _check_origin_access_control)
ORIGIN_ACCESS_IDENTITY = Kind("origin-access-identity", OriginAccessIdentityConfig, lambda: new_id("E"),
                              _check_origin_access_identity, fixed=lambda config: (config.caller_reference,),
                              replayable=True)
CACHE_POLICY = Kind("cache-policy", CachePolicy, lambda: str(uuid.uuid4()), check_cache_policy)
ORIGIN_REQUEST_POLICY = Kind("origin-request-policy", OriginRequestPolicy, lambda: str(uuid.uuid4()),
                             check_origin_request_policy)
RESPONSE_HEADERS_POLICY = Kind("response-headers-policy", ResponseHeadersPolicy, lambda: str(uuid.uuid4()),
                               check_response_headers_policy)


def s3_canonical_user_id(identity_id: str) -> str:
    """An origin access identity's S3CanonicalUserId: 96 hex digits, as CloudFront's, fixed by its id."""
    return hashlib.sha384(identity_id.encode()).hexdigest()


def own_policies(behavior: Behavior) -> list[tuple[Kind[Any], str]]:
    """The account's own cache, origin request and response headers policies a behaviour names,
    with their kinds: the ids it gives that no managed policy has."""
    named: tuple[tuple[Kind[Any], str | None, Container[str]], ...] = (
        (CACHE_POLICY, behavior.cache_policy_id, cache_policies.MANAGED),
        (ORIGIN_REQUEST_POLICY, behavior.origin_request_policy_id, origin_request_policies.MANAGED),
        (RESPONSE_HEADERS_POLICY, behavior.response_headers_policy_id, response_headers_policies.MANAGED),
    )
    return [(kind, policy_id) for kind, policy_id, managed in named
            if policy_id is not None and policy_id not in managed]


def replace_refs(conn: sqlite3.Connection, owner_id: str, refs: list[tuple[str, str]]) -> tuple[str, str] | None:
    """Make `owner_id` (a distribution or key group) refer to exactly `refs`, (kind, id) pairs.
    Returns the first pair that names no such resource, and then changes nothing."""
    for kind, resource_id in refs:
        if not conn.execute("SELECT 1 FROM resources WHERE id = ? AND kind = ?", (resource_id, kind)).fetchone():
            return kind, resource_id
    conn.execute("DELETE FROM resource_refs WHERE owner_id = ?", (owner_id,))
    conn.executemany("INSERT OR IGNORE INTO resource_refs (owner_id, resource_id) VALUES (?, ?)",
                     [(owner_id, resource_id) for _, resource_id in refs])
    return None


class ResourceRegistry:
    """Create, read, list, update and delete resources of every Kind in one table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, kind: Kind[C], config: C) -> Resource[C]:
        kind.check(config)
        resource_id = kind.new_id()
        now = time.time()
        resource = Resource(resource_id, new_id("E"), now, now, config)
        with self.db.write() as conn:
            self._refer(conn, kind, resource_id, config)
            try:
                conn.execute(
                    "INSERT INTO resources (id, kind, name, etag, created, modified, config) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (resource_id, kind.name, config.name, resource.etag, now, now, codec.dumps(config)),
                )
            except sqlite3.IntegrityError:
                earlier = self._replayed(conn, kind, config)
                if earlier is not None:
                    return earlier
                raise ResourceAlreadyExists(kind.name, f"A {kind.name} named {config.name} already exists.") from None
        return resource

    def _replayed(self, conn: sqlite3.Connection, kind: Kind[C], config: C) -> Resource[C] | None:
        """The resource an earlier create made with the same name and config, if `kind` answers
        such a replay with it."""
        if not kind.replayable:
            return None
        row = conn.execute("SELECT id, etag, created, modified, config FROM resources WHERE kind = ? AND name = ?",
                           (kind.name, config.name)).fetchone()
        earlier = self._from_row(kind, row)
        return earlier if earlier.config == config else None

    def get(self, kind: Kind[C], resource_id: str) -> Resource[C]:
        with self.db.read() as conn:
            return self._get(conn, kind, resource_id)

    def list_page(self, kind: Kind[C], marker: str = "", max_items: int = 100) -> tuple[list[Resource[C]], str | None]:
        """A page in id order after `marker`, and the next marker if more remain."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT id, etag, created, modified, config FROM resources WHERE kind = ? AND id > ? "
                "ORDER BY id LIMIT ?", (kind.name, marker, max_items + 1),
            ).fetchall()
        page = [self._from_row(kind, row) for row in rows[:max_items]]
        return page, (page[-1].id if len(rows) > max_items and page else None)

    def update(self, kind: Kind[C], resource_id: str, config: C, if_match: str | None) -> Resource[C]:
        kind.check(config)
        with self.db.write() as conn:
            current = self._current(conn, kind, resource_id, if_match)
            if kind.fixed(config) != kind.fixed(current.config):
                raise kind.changed(f"A {kind.name}'s CallerReference and key cannot change.")
            self._refer(conn, kind, resource_id, config)
            now = time.time()
            updated = Resource(resource_id, new_id("E"), current.created, now, config)
            try:
                conn.execute("UPDATE resources SET name = ?, etag = ?, modified = ?, config = ? WHERE id = ?",
                             (config.name, updated.etag, now, codec.dumps(config), resource_id))
            except sqlite3.IntegrityError:
                raise ResourceAlreadyExists(kind.name, f"A {kind.name} named {config.name} already exists.") from None
            bump_generation(conn)  # a trusted key group's keys may have changed
        return updated

    def delete(self, kind: Kind[C], resource_id: str, if_match: str | None) -> None:
        with self.db.write() as conn:
            self._current(conn, kind, resource_id, if_match)
            if conn.execute("SELECT 1 FROM resource_refs WHERE resource_id = ?", (resource_id,)).fetchone():
                raise ResourceInUse(kind.name, f"The {kind.name} {resource_id} is in use.")
            conn.execute("DELETE FROM resource_refs WHERE owner_id = ?", (resource_id,))
            conn.execute("DELETE FROM resources WHERE id = ?", (resource_id,))

    def configs(self, kind: Kind[C], resource_ids: tuple[str, ...]) -> dict[str, C]:
        """For an edge applying behaviours: the configs of the resources of `kind` among
        `resource_ids` (custom policies), by id."""
        with self.db.read() as conn:
            rows = [conn.execute("SELECT config FROM resources WHERE id = ? AND kind = ?",
                                 (resource_id, kind.name)).fetchone() for resource_id in resource_ids]
        return {resource_id: codec.loads(kind.config_type, row[0])
                for resource_id, row in zip(resource_ids, rows, strict=True) if row is not None}

    def key_groups(self, group_ids: tuple[str, ...]) -> dict[str, dict[str, str]]:
        """For an edge checking signed URLs: key group id -> {public key id: PEM}."""
        groups: dict[str, dict[str, str]] = {}
        with self.db.read() as conn:
            for group_id in group_ids:
                try:
                    group = self._get(conn, KEY_GROUP, group_id)
                except NoSuchResource:
                    continue
                keys = groups.setdefault(group_id, {})
                for key_id in group.config.items:
                    row = conn.execute("SELECT config FROM resources WHERE id = ? AND kind = ?",
                                       (key_id, PUBLIC_KEY.name)).fetchone()
                    if row is not None:
                        keys[key_id] = codec.loads(PublicKeyConfig, row[0]).encoded_key
        return groups

    @staticmethod
    def _refer(conn: sqlite3.Connection, kind: Kind[C], resource_id: str, config: C) -> None:
        missing = replace_refs(conn, resource_id, [(PUBLIC_KEY.name, ref) for ref in kind.refers_to(config)])
        if missing is not None:
            raise NoSuchResource(PUBLIC_KEY.name, f"The public key {missing[1]} does not exist.")

    def _get(self, conn: sqlite3.Connection, kind: Kind[C], resource_id: str) -> Resource[C]:
        row = conn.execute("SELECT id, etag, created, modified, config FROM resources WHERE id = ? AND kind = ?",
                           (resource_id, kind.name)).fetchone()
        if row is None:
            raise NoSuchResource(kind.name, f"The specified {kind.name} does not exist.")
        return self._from_row(kind, row)

    def _current(self, conn: sqlite3.Connection, kind: Kind[C], resource_id: str,
                 if_match: str | None) -> Resource[C]:
        current = self._get(conn, kind, resource_id)
        require_etag(current.etag, if_match)
        return current

    @staticmethod
    def _from_row(kind: Kind[C], row: tuple[str, str, float, float, str]) -> Resource[C]:
        resource_id, etag, created, modified, config = row
        return Resource(resource_id, etag, created, modified, codec.loads(kind.config_type, config))
