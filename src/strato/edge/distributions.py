"""The origin of `strato serve`'s edge: CloudFront-style distributions in front of strato (and
of `strato edge --config FILE`'s, whose distributions come from a file: edge/distribution_file.py).

A request picks its distribution by Host (aliases, then the distribution's own domain name)
and its cache behaviour by path; the behaviour names the origin, a strato bucket or any HTTP
server, or an origin group: its primary is asked first, its secondary when the primary fails
(see _fail_over). A Host no distribution claims gets the default distribution: strato's S3
API by path (`/<bucket>/<key>`), asked anonymously, so only what a bucket policy makes public
is served. An S3 origin with an origin access control (or a legacy origin access identity) is
asked with requests signed by strato's root keys (as CloudFront's OAC signs with SigV4, when
its SigningBehavior asks for it), so its bucket can stay private.

The proxy asks `rules(host, path)` once per request for the behaviour's settings (signed
URLs, methods, what is forwarded and keyed, TTLs, compression, the viewer protocol policy,
the response headers policy, the CloudFront functions it runs) and its distribution's error
caching and pages (made by edge/behavior_rules.py): answered from a snapshot of the registry,
read again when the distributions change (checked once a second) and when the key groups,
custom policies or published functions behaviours use change. An origin's CustomHeaders are added here, to
every request sent to it.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, unquote

from strato.auth import sigv4, viewer
from strato.cdn.functions import CloudFrontFunction, function_name
from strato.cdn.records import Behavior, Distribution, Origin, OriginAccessControlConfig, OriginGroup
from strato.cdn.resources import ORIGIN_ACCESS_CONTROL
from strato.cdn.selection import behavior_for, distribution_for
from strato.cdn.validation import FAILOVER_METHODS, bucket_of, origin_access_identity
from strato.edge import set_cookie
from strato.edge.behavior_rules import NO_POLICIES, CustomPolicies, Resources, all_rules, behaviors, forwards_host
from strato.edge.freshness import TARGETED_FIELD
from strato.edge.origin_http import KEEPALIVE_TIMEOUT
from strato.edge.origins import HttpOrigin, OriginResponse
from strato.edge.rules import OPEN, Rules
from strato.edge.viewer import claims_https

log = logging.getLogger("strato.edge")
REFRESH_SECONDS = 1.0  # how stale the edge's copy of the distributions may be
SIGNATURE_SECONDS = 60
OBJECT_PARAMETERS = ("versionId", "partNumber")  # with response-*: what GetObject reads
SIGNATURES = frozenset({"X-Amz-Signature", "Signature"})  # a presigned URL's, SigV4 and SigV2
HOSTS_REMEMBERED = 4096  # Host -> distribution answers kept between refreshes
DEFAULT_READ_TIMEOUT = 30  # a custom origin's, in seconds, when its configuration gives none
DEFAULT_CONNECTION_TIMEOUT = 10
DEFAULT_CONNECTION_ATTEMPTS = 3
UNCLAIMED = Rules(cache=False)  # a host no distribution claims, on an edge with no default one: refused
# How long a stored answer of the default distribution is served before S3 is asked again whether
# it still stands (a conditional request: 304, or 403 once the bucket's policy no longer lets
# anyone read it), however long its own freshness.
ACCESS_RECHECK = 5.0
DEFAULT_DISTRIBUTION = dataclasses.replace(OPEN, revalidate_after=ACCESS_RECHECK)


@dataclass(frozen=True, slots=True)
class OriginKeys:
    """The keys an origin access control signs with, and the region it signs for."""

    access_key: str
    secret_key: str
    region: str


class Functions(Protocol):
    def live(self, names: tuple[str, ...]) -> dict[str, CloudFrontFunction]:
        """The LIVE stage of each function among `names` that has one."""
        ...


class Registry(Protocol):
    """Where the distributions come from: strato's database (cdn/registry.py), or a file of
    them for a standalone edge (edge/distribution_file.py)."""

    @property
    def resources(self) -> Resources: ...

    @property
    def functions(self) -> Functions: ...

    def generation(self) -> int:
        """A number that changes when the distributions or the resources they name do."""
        ...

    def all(self) -> list[Distribution]: ...


class DistributionOrigin:
    def __init__(self, registry: Registry, api_base: str | None, keys: OriginKeys,
                 refresh: float = REFRESH_SECONDS, *, trust_forwarded_proto: bool = False) -> None:
        """`api_base`: the strato server whose S3 API holds the buckets S3 origins name, and
        answers hosts no distribution claims (None: a standalone edge given none refuses those)."""
        self.registry = registry
        self.trust_forwarded_proto = trust_forwarded_proto  # strato.edge.viewer: whether the viewer's is believed
        self.refresh = refresh
        self.api = HttpOrigin(api_base) if api_base is not None else None
        self.keys = keys
        self._custom: dict[tuple[str, int, int, int, float], HttpOrigin] = {}  # by base URL and timeouts
        self._distributions: list[Distribution] = []
        self._generation = -1
        self._checked = 0.0
        self._by_host: dict[str, Distribution | None] = {}
        self._rules: dict[tuple[str, str | None], Rules] = {}
        self._policies = NO_POLICIES  # the custom policies behaviours use
        self._controls: Mapping[str, OriginAccessControlConfig] = {}  # the origin access controls origins use

    def distributions(self) -> list[Distribution]:
        """The registry's distributions, read again when one has changed (checked once a second;
        a registry that cannot be read leaves the snapshot as it was until the next check)."""
        now = time.monotonic()
        if now - self._checked >= self.refresh:
            self._checked = now
            try:
                self._reload()
            except sqlite3.Error as exc:
                log.warning("the distributions were not reloaded: %r", exc)
        return self._distributions

    def _reload(self) -> None:
        generation = self.registry.generation()
        if generation == self._generation:
            return
        distributions = self.registry.all()
        group_ids = _trusted_groups(distributions)
        keys = self.registry.resources.key_groups(group_ids) if group_ids else {}
        policies = CustomPolicies.named_by(distributions, self.registry.resources)
        names = _function_names(distributions)
        functions = self.registry.functions.live(names) if names else {}
        controls = _access_controls(distributions)
        access_controls = self.registry.resources.configs(ORIGIN_ACCESS_CONTROL, controls) if controls else {}
        self._rules = all_rules(distributions, keys, policies, functions)
        self._distributions, self._generation, self._by_host = distributions, generation, {}
        self._policies = policies
        self._controls = access_controls
        self._forget_pools(distributions)

    def rules(self, host: str, path: str) -> Rules:
        """The settings of the behaviour serving `path` on `host` (DEFAULT_DISTRIBUTION for a Host no
        distribution claims; without a default distribution, UNCLAIMED: what a host dropped from the
        distributions had cached is not served)."""
        distribution = self._distribution(host)
        if distribution is None:
            return DEFAULT_DISTRIBUTION if self.api is not None else UNCLAIMED
        return self._rules[(distribution.id, behavior_for(distribution, unquote(path)).path_pattern)]

    def _distribution(self, host: str) -> Distribution | None:
        """The distribution `host` names, remembered per host until the next reload."""
        distributions = self.distributions()
        if host in self._by_host:
            return self._by_host[host]
        if len(self._by_host) >= HOSTS_REMEMBERED:
            self._by_host.clear()
        distribution = self._by_host[host] = distribution_for(distributions, host)
        return distribution

    async def fetch(
        self, method: str, target: str, headers: Mapping[str, str], body: AsyncIterator[bytes] | None = None,
        *, host: str = "",
    ) -> OriginResponse:
        path, _, query = target.partition("?")
        distribution = self._distribution(host)
        if distribution is None:
            if self.api is None:
                return _refused("No distribution of this edge answers for this Host.")
            response = await self.api.fetch(method, target, self._for_viewer(headers), body)
            if "authorization" in headers or _signed_query(query):
                # Asked with the viewer's own keys, answered to them alone: never stored for others
                # (however public the object's Cache-Control), nor past a presigned URL's expiry.
                response.headers[TARGETED_FIELD] = "private"
            return response
        behavior = behavior_for(distribution, unquote(path))  # as the origin will read the path
        targets = distribution.config.targets(behavior.target_origin_id)
        if not targets:  # validated at create/update; a concurrent update may race
            raise LookupError(f"distribution {distribution.id} has no origin {behavior.target_origin_id}")
        root_object = distribution.config.default_root_object
        if path == "/" and root_object:
            path = "/" + root_object.lstrip("/")
        group = distribution.config.group(behavior.target_origin_id)
        if group is None or len(targets) < 2 or body is not None or method not in FAILOVER_METHODS:
            response = await self._fetch_from(targets[0], behavior, method, path, query, headers, body, host)
        else:
            response = await self._fail_over(group, targets, behavior, method, path, query, headers, host)
        rules = self._rules.get((distribution.id, behavior.path_pattern))
        if rules is not None:  # the cookies the behaviour forwards are the ones viewers get set (Cookies.html)
            set_cookie.passed_on(response.headers, rules.cookies, rules.cookies_withheld)
        return response

    def _for_viewer(self, headers: Mapping[str, str]) -> Mapping[str, str]:
        """`headers` vouching (strato.auth.viewer) for the viewer the edge asks the default
        distribution's S3 for: the address the edge appended to X-Forwarded-For last, and the
        protocol a trusted X-Forwarded-Proto names."""
        address = headers.get("x-forwarded-for", "").rpartition(",")[2].strip()
        if not address or not self.keys.access_key:  # a standalone edge without keys vouches for no one
            return headers
        https = self.trust_forwarded_proto and claims_https(headers.get("x-forwarded-proto", ""))
        return {**headers, viewer.FIELD: viewer.vouch(self.keys.access_key, self.keys.secret_key, address, https,
                                                      time.time())}

    async def _fail_over(self, group: OriginGroup, targets: tuple[Origin, ...], behavior: Behavior, method: str,
                         path: str, query: str, headers: Mapping[str, str], host: str) -> OriginResponse:
        """AWS CloudFront DeveloperGuide/high_availability_origin_failover.html: the primary's
        answer, unless it cannot be reached, times out or answers one of the group's failover
        statuses: then the secondary's. Every request tries the primary first."""
        primary, secondary = targets
        try:
            response = await self._fetch_from(primary, behavior, method, path, query, headers, None, host)
        except Exception as exc:  # unreachable, timed out, broken: what the secondary is for
            log.info("origin group %s: %s failed (%r), asking %s", group.id, primary.id, exc, secondary.id)
        else:
            if response.status not in group.failover_statuses:
                return response
            response.release()
            log.info("origin group %s: %s answered %d, asking %s", group.id, primary.id, response.status,
                     secondary.id)
        return await self._fetch_from(secondary, behavior, method, path, query, headers, None, host)

    async def _fetch_from(self, origin: Origin, behavior: Behavior, method: str, path: str, query: str,
                          headers: Mapping[str, str], body: AsyncIterator[bytes] | None, host: str) -> OriginResponse:
        headers = with_custom_headers(headers, origin.custom_headers)
        prefix = (origin.origin_path or "").rstrip("/")
        bucket = bucket_of(origin) if origin.s3 is not None else None
        if bucket is None:
            upstream = self._custom_origin(origin)
            target = prefix + path + (f"?{query}" if query else "")
            control = self._controls.get(origin.origin_access_control_id or "")
            if control is not None and _signs(origin, control, headers):
                headers = self._signed_for(control.origin_type, upstream.host, method, target, headers)
            return await upstream.fetch(method, target, headers, body, host=host,
                                        forward_host=forwards_host(behavior, self._policies))
        api = self._server()
        if _signs(origin, self._controls.get(origin.origin_access_control_id or ""), headers) and method in (
                "GET", "HEAD"):
            if unquote(prefix + path).strip("/") == "":
                return _refused("An origin access control or identity reads objects only; this names none.")
            return await api.fetch(method, self._signed(api.host, method, f"/{bucket}{prefix}{path}", query),
                                   _without_authorization(headers), body)
        return await api.fetch(method, f"/{bucket}{prefix}{path}" + (f"?{query}" if query else ""), headers, body)

    def _server(self) -> HttpOrigin:
        """The strato server holding the buckets (a file of distributions naming one is refused
        at load without it)."""
        if self.api is None:
            raise LookupError("no strato server to read buckets from")
        return self.api

    def _signed(self, host: str, method: str, path: str, query: str) -> str:
        """`path?query` with a SigV4 query signature by the root keys (payload unsigned). Only
        GetObject's own parameters are kept: a signed `?list-type=2`, `?policy` or `?versions`
        would read more of the bucket than its objects, which is all an OAC grants."""
        params = [(name, value) for name, value in parse_qsl(query, keep_blank_values=True)
                  if name.startswith("response-") or name in OBJECT_PARAMETERS]
        signed = sigv4.presign(method, host, path.encode(), params, access_key=self.keys.access_key,
                               secret=self.keys.secret_key, region=self.keys.region, service="s3",
                               now=time.time(), expires=SIGNATURE_SECONDS)
        return f"{path}?{signed}"

    def _signed_for(self, service: str, origin_host: str, method: str, target: str,
                    headers: Mapping[str, str]) -> dict[str, str]:
        """`headers` signed with SigV4 by the root keys for the `service` a custom origin is (an
        origin access control's type: a Lambda function URL's `lambda`, AWS CloudFront
        DeveloperGuide/private-content-restricting-access-to-lambda.html), the viewer's
        Authorization overwritten. A body's SHA-256 is the viewer's to give in
        x-amz-content-sha256, as Lambda signs no unsigned payload; without one, the empty body's."""
        path, _, query = target.partition("?")
        payload = headers.get("x-amz-content-sha256", sigv4.EMPTY_SHA256)
        signed = sigv4.sign_headers(method, origin_host, path.encode("latin-1"), query.encode("latin-1"), payload,
                                    access_key=self.keys.access_key, secret=self.keys.secret_key,
                                    region=self.keys.region, service=service, now=time.time())
        return {**_without_authorization(headers), **signed}

    def _custom_origin(self, origin: Origin) -> HttpOrigin:
        """The origin's connections, with its own timeouts."""
        key = _pool_key(origin)
        if key not in self._custom:
            base, read, connect, attempts, keepalive = key
            self._custom[key] = HttpOrigin(base, timeout=read, connect_timeout=connect, connect_attempts=attempts,
                                           keepalive_timeout=keepalive)
        return self._custom[key]

    def _forget_pools(self, distributions: list[Distribution]) -> None:
        """Close the connections of origins no distribution has any more (or has with other
        timeouts): each configuration change would otherwise leave its old pool's idle connections
        open for good."""
        kept = {_pool_key(origin) for distribution in distributions for origin in distribution.config.origins
                if origin.s3 is None}
        for key in [key for key in self._custom if key not in kept]:
            self._custom.pop(key).discard()

    async def close(self) -> None:
        if self.api is not None:
            await self.api.close()
        for origin in self._custom.values():
            await origin.close()


def _pool_key(origin: Origin) -> tuple[str, int, int, int, float]:
    """A custom origin's base URL and timeouts (AWS CloudFront DeveloperGuide
    /DownloadDistValuesOrigin.html: OriginReadTimeout 30 s, ConnectionTimeout 10 s,
    ConnectionAttempts 3 and OriginKeepaliveTimeout 5 s when left out): how soon an origin
    group's primary is given up, and how long an idle connection to it is kept."""
    custom = origin.custom
    scheme = "https" if custom is not None and custom.protocol_policy == "https-only" else "http"
    port = (custom.https_port if scheme == "https" else custom.http_port) if custom is not None else 80
    read = (custom.read_timeout if custom is not None else None) or DEFAULT_READ_TIMEOUT
    keepalive = (custom.keepalive_timeout if custom is not None else None) or KEEPALIVE_TIMEOUT
    return (f"{scheme}://{origin.domain_name}:{port}", read, origin.connection_timeout or DEFAULT_CONNECTION_TIMEOUT,
            origin.connection_attempts or DEFAULT_CONNECTION_ATTEMPTS, keepalive)


def with_custom_headers(headers: Mapping[str, str],
                        custom: tuple[tuple[str, str], ...] | None) -> Mapping[str, str]:
    """AWS CloudFront DeveloperGuide/add-origin-custom-headers.html: an origin's CustomHeaders are
    added to every request to it, replacing a viewer's field of the same name."""
    if not custom:
        return headers
    merged = dict(headers)
    for name, value in custom:
        merged[name.lower()] = value
    return merged


def _signed_query(query: str) -> bool:
    """Whether a query carries a presigned URL's signature (SigV4's or SigV2's)."""
    return "Signature=" in query and any(name in SIGNATURES for name, _ in parse_qsl(query, keep_blank_values=True))


def _refused(message: str) -> OriginResponse:
    """A 403 the edge answers for the origin (not cacheable: it carries no freshness)."""
    body = f"<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>".encode()

    async def chunks() -> AsyncIterator[bytes]:
        yield body

    return OriginResponse(403, {"content-type": "application/xml", "content-length": str(len(body))}, chunks(),
                          lambda: None, body)


def _trusted_groups(distributions: list[Distribution]) -> tuple[str, ...]:
    groups = {group for distribution in distributions for group in distribution.config.trusted_key_groups()}
    return tuple(sorted(groups))


def _signs(origin: Origin, control: OriginAccessControlConfig | None, headers: Mapping[str, str]) -> bool:
    """Whether the edge signs its request to `origin`, S3 or custom, whose origin access control
    is `control` (AWS CloudFront API_OriginAccessControlConfig): SigningBehavior `always` does,
    `never` does not, `no-override` does unless the request passes the viewer's Authorization
    along; a legacy origin access identity always does."""
    if origin.origin_access_control_id:
        behavior = control.signing_behavior if control is not None else "always"
        return behavior == "always" or (behavior == "no-override" and "authorization" not in headers)
    return bool(origin_access_identity(origin))


def _without_authorization(headers: Mapping[str, str]) -> dict[str, str]:
    """`headers` but the viewer's Authorization, which the edge's own signature replaces (an
    origin given two would refuse the request)."""
    return {name: value for name, value in headers.items() if name != "authorization"}


def _access_controls(distributions: list[Distribution]) -> tuple[str, ...]:
    controls = {origin.origin_access_control_id for distribution in distributions
                for origin in distribution.config.origins if origin.origin_access_control_id}
    return tuple(sorted(controls))


def _function_names(distributions: list[Distribution]) -> tuple[str, ...]:
    names = {name for distribution in distributions for behavior in behaviors(distribution)
             for association in behavior.function_associations or ()
             if (name := function_name(association.function_arn)) is not None}
    return tuple(sorted(names))

