"""CloudFront Functions' control plane (https://docs.aws.amazon.com/cloudfront/latest/APIReference/
API_CreateFunction.html and its siblings): a function is made and changed in its DEVELOPMENT
stage, and PublishFunction copies that stage to LIVE, which is what distributions run. Each stage
has its own ETag; a change names the DEVELOPMENT one (If-Match). A behaviour associates a LIVE
function by its ARN, and the distribution then refers to it (FunctionInUse on delete).

Whether code compiles is the JavaScript engine's to say (strato.edge.functions_js), so the
protocol layer checks that before calling `create` or `update`."""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass

from strato.account import ACCOUNT_ID

from .database import Database, bump_generation
from .errors import (
    FunctionAlreadyExists,
    FunctionInUse,
    FunctionSizeLimitExceeded,
    InvalidArgument,
    InvalidFunctionAssociation,
    NoSuchFunctionExists,
)
from .ids import new_id, require_etag
from .records import Behavior

DEVELOPMENT = "DEVELOPMENT"
LIVE = "LIVE"
STAGES = (DEVELOPMENT, LIVE)
RUNTIMES = frozenset({"cloudfront-js-1.0", "cloudfront-js-2.0"})
EVENT_TYPES = ("viewer-request", "viewer-response")  # origin-facing events are Lambda@Edge's
MAX_CODE = 10 * 1024  # DeveloperGuide/cloudfront-limits.html: "Maximum size of a function: 10 KB"
MAX_COMMENT = 128
UNPUBLISHED = "UNPUBLISHED"
DEPLOYED = "DEPLOYED"
_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_ARN_PREFIX = f"arn:aws:cloudfront::{ACCOUNT_ID}:function/"


@dataclass(frozen=True, slots=True)
class FunctionConfig:
    comment: str
    runtime: str  # cloudfront-js-1.0 | cloudfront-js-2.0


@dataclass(frozen=True, slots=True)
class CloudFrontFunction:
    """One stage of a function. `status`: UNPUBLISHED while its DEVELOPMENT stage differs from
    LIVE (or was never published), else DEPLOYED."""

    name: str
    stage: str
    etag: str
    created: float
    modified: float
    config: FunctionConfig
    code: bytes
    status: str

    @property
    def arn(self) -> str:
        return function_arn(self.name)


def function_arn(name: str) -> str:
    return _ARN_PREFIX + name


def function_name(arn: str) -> str | None:
    """The name an ARN of this account's functions names, or None."""
    name = arn[len(_ARN_PREFIX):] if arn.startswith(_ARN_PREFIX) else ""
    return name if _NAME.fullmatch(name) else None


def check_function(name: str, config: FunctionConfig, code: bytes) -> None:
    if not _NAME.fullmatch(name):
        raise InvalidArgument("The parameter Name must be 1 to 64 letters, digits, hyphens or underscores.")
    if config.runtime not in RUNTIMES:
        raise InvalidArgument(f"The parameter Runtime has an invalid value: {config.runtime[:64]}")
    if len(config.comment) > MAX_COMMENT:
        raise InvalidArgument(f"The parameter Comment is longer than {MAX_COMMENT} characters.")
    if not code:
        raise InvalidArgument("The parameter FunctionCode must not be empty.")
    if len(code) > MAX_CODE:
        raise FunctionSizeLimitExceeded(f"The function code is {len(code)} bytes; at most {MAX_CODE} are allowed.")


def associated_names(behavior: Behavior) -> list[str]:
    """The names of the functions a behaviour associates, checked as CloudFront checks them: an
    ARN of this account's functions, a viewer event type, at most one function per event type."""
    associations = behavior.function_associations or ()
    names = []
    for association in associations:
        if association.event_type not in EVENT_TYPES:
            raise InvalidFunctionAssociation(
                f"The event type {association.event_type[:64]} cannot run a CloudFront function: "
                "use viewer-request or viewer-response.")
        name = function_name(association.function_arn)
        if name is None:
            raise InvalidFunctionAssociation(f"The function ARN {association.function_arn[:200]} is invalid.")
        names.append(name)
    if len({association.event_type for association in associations}) != len(associations):
        raise InvalidFunctionAssociation("A cache behavior can have only one function for each event type.")
    return names


class FunctionRegistry:
    """Create, describe, read, update, publish, list and delete functions in cdn.db."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, name: str, config: FunctionConfig, code: bytes) -> CloudFrontFunction:
        check_function(name, config, code)
        now = time.time()
        etag = new_id("E")
        with self.db.write() as conn:
            try:
                conn.execute("INSERT INTO functions (name, stage, etag, created, modified, comment, runtime, code) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (name, DEVELOPMENT, etag, now, now, config.comment, config.runtime, code))
            except sqlite3.IntegrityError:
                raise FunctionAlreadyExists(f"A function named {name} already exists.") from None
        return CloudFrontFunction(name, DEVELOPMENT, etag, now, now, config, code, UNPUBLISHED)

    def describe(self, name: str, stage: str = DEVELOPMENT) -> CloudFrontFunction:
        """The function's `stage` (DEVELOPMENT unless asked): its metadata and its code."""
        _check_stage(stage)
        with self.db.read() as conn:
            return self._stage(conn, name, stage)

    def update(self, name: str, config: FunctionConfig, code: bytes, if_match: str | None) -> CloudFrontFunction:
        """UpdateFunction: a new DEVELOPMENT stage; LIVE stays until the next publish."""
        check_function(name, config, code)
        with self.db.write() as conn:
            current = self._stage(conn, name, DEVELOPMENT)
            require_etag(current.etag, if_match)
            now, etag = time.time(), new_id("E")
            conn.execute("UPDATE functions SET etag = ?, modified = ?, comment = ?, runtime = ?, code = ? "
                         "WHERE name = ? AND stage = ?",
                         (etag, now, config.comment, config.runtime, code, name, DEVELOPMENT))
            return self._stage(conn, name, DEVELOPMENT)

    def publish(self, name: str, if_match: str | None) -> CloudFrontFunction:
        """PublishFunction: DEVELOPMENT copied to LIVE (with an ETag of its own); edges reload."""
        with self.db.write() as conn:
            current = self._stage(conn, name, DEVELOPMENT)
            require_etag(current.etag, if_match)
            now = time.time()
            conn.execute("INSERT INTO functions (name, stage, etag, created, modified, comment, runtime, code) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name, stage) DO UPDATE SET "
                         "etag = excluded.etag, modified = excluded.modified, comment = excluded.comment, "
                         "runtime = excluded.runtime, code = excluded.code",
                         (name, LIVE, new_id("E"), current.created, now, current.config.comment,
                          current.config.runtime, current.code))
            bump_generation(conn)
            return self._stage(conn, name, LIVE)

    def delete(self, name: str, if_match: str | None) -> None:
        """DeleteFunction, at the DEVELOPMENT ETag; not while a distribution associates it."""
        with self.db.write() as conn:
            require_etag(self._stage(conn, name, DEVELOPMENT).etag, if_match)
            if conn.execute("SELECT 1 FROM resource_refs WHERE resource_id = ?", (function_arn(name),)).fetchone():
                raise FunctionInUse(f"The function {name} is associated with a distribution.")
            conn.execute("DELETE FROM functions WHERE name = ?", (name,))

    def list_page(self, stage: str | None, marker: str = "",
                  max_items: int = 100) -> tuple[list[CloudFrontFunction], str | None]:
        """A page of one stage's functions or both stages', in (name, stage) order after the
        `marker` an earlier page answered ('name:stage'), and the next marker if more remain."""
        if stage is not None:
            _check_stage(stage)
        after_name, _, after_stage = marker.partition(":")
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT name, stage FROM functions WHERE (name, stage) > (?, ?) AND (? IS NULL OR stage = ?) "
                "ORDER BY name, stage LIMIT ?", (after_name, after_stage, stage, stage, max_items + 1)).fetchall()
            page = [self._stage(conn, name, row_stage) for name, row_stage in rows[:max_items]]
        last = page[-1] if len(rows) > max_items and page else None
        return page, (f"{last.name}:{last.stage}" if last is not None else None)

    def live(self, names: tuple[str, ...]) -> dict[str, CloudFrontFunction]:
        """For an edge applying behaviours: the LIVE stage of each function among `names` that has one."""
        found = {}
        with self.db.read() as conn:
            for name in names:
                try:
                    found[name] = self._stage(conn, name, LIVE)
                except NoSuchFunctionExists:
                    continue
        return found

    @staticmethod
    def refer(conn: sqlite3.Connection, owner_id: str, behaviors: tuple[Behavior, ...]) -> None:
        """Inside a distribution's write, after its other references are replaced: the functions
        its behaviours associate must be published; the distribution then refers to them."""
        names = sorted({name for behavior in behaviors for name in associated_names(behavior)})
        for name in names:
            if not conn.execute("SELECT 1 FROM functions WHERE name = ? AND stage = ?", (name, LIVE)).fetchone():
                raise InvalidFunctionAssociation(
                    f"The function {function_arn(name)} does not exist or has not been published.")
        conn.executemany("INSERT OR IGNORE INTO resource_refs (owner_id, resource_id) VALUES (?, ?)",
                         [(owner_id, function_arn(name)) for name in names])

    @staticmethod
    def _stage(conn: sqlite3.Connection, name: str, stage: str) -> CloudFrontFunction:
        rows = {row[0]: row[1:] for row in conn.execute(
            "SELECT stage, etag, created, modified, comment, runtime, code FROM functions WHERE name = ?", (name,))}
        if stage not in rows:
            raise NoSuchFunctionExists(f"The function {name} does not exist in the {stage} stage.")
        etag, created, modified, comment, runtime, code = rows[stage]
        live = rows.get(LIVE)
        published = live is not None and live[3:] == rows[DEVELOPMENT][3:]
        return CloudFrontFunction(name, stage, etag, created, modified, FunctionConfig(comment, runtime), bytes(code),
                                  DEPLOYED if stage == LIVE or published else UNPUBLISHED)


def _check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise InvalidArgument("The parameter Stage must be DEVELOPMENT or LIVE.")
