"""The rules CloudFront applies to a DistributionConfig and an invalidation batch, as pure
checks that raise the domain error CloudFront answers with
(https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateDistribution.html,
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/distribution-web-values-specify.html)."""

from __future__ import annotations

import re

from .errors import (
    BatchTooLarge,
    CdnError,
    IllegalOriginAccessConfiguration,
    InvalidArgument,
    InvalidDefaultRootObject,
    InvalidErrorCode,
    InvalidForwardCookies,
    InvalidOrigin,
    InvalidOriginAccessIdentity,
    InvalidOriginKeepaliveTimeout,
    InvalidOriginReadTimeout,
    InvalidRelativePath,
    InvalidResponseCode,
    InvalidTagging,
    InvalidTTLOrder,
    NoSuchOrigin,
)
from .records import Behavior, CustomErrorResponse, DistributionConfig, Origin, OriginAccessControlConfig

MAX_COMMENT = 128
MAX_PATHS = 3000
MAX_PATH_LENGTH = 4000
VIEWER_PROTOCOL_POLICIES = frozenset({"allow-all", "https-only", "redirect-to-https"})
ORIGIN_PROTOCOL_POLICIES = frozenset({"http-only", "match-viewer", "https-only"})
COOKIE_FORWARDS = frozenset({"none", "whitelist", "all"})
PRICE_CLASSES = frozenset({"PriceClass_100", "PriceClass_200", "PriceClass_All", "None"})
HTTP_VERSIONS = frozenset({"http1.1", "http2", "http3", "http2and3"})
# The only method sets CloudFront accepts, allowed and cached.
ALLOWED_METHOD_SETS = (
    frozenset({"GET", "HEAD"}),
    frozenset({"GET", "HEAD", "OPTIONS"}),
    frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}),
)
CACHED_METHOD_SETS = ALLOWED_METHOD_SETS[:2]
# DeveloperGuide/high_availability_origin_failover.html: what an origin group fails over on, and
# the requests it fails over (a behaviour targeting one allows no others).
FAILOVER_STATUSES = frozenset({400, 403, 404, 416, 500, 502, 503, 504})
FAILOVER_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SELECTION_CRITERIA = frozenset({"default", "media-quality-based"})
# DeveloperGuide/creating-custom-error-pages.html: the statuses a CustomErrorResponse may name,
# and (with 200) the ones it may answer with.
CUSTOMIZABLE_ERRORS = frozenset({400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504})
RESPONSE_CODES = frozenset({"200", *(str(code) for code in CUSTOMIZABLE_ERRORS)})
# DeveloperGuide/RequestAndResponseBehaviorCustomOrigin.html: fields CloudFront cannot cache on.
UNCACHEABLE_HEADERS = frozenset({
    "cache-control", "connection", "content-length", "cookie", "max-forwards", "pragma", "proxy-authenticate",
    "proxy-authorization", "proxy-connection", "request-range", "te", "trailer", "transfer-encoding", "upgrade",
    "x-amz-cf-id", "x-forwarded-proto", "x-real-ip",
})
# DeveloperGuide/add-origin-custom-headers.html: fields an origin's CustomHeaders cannot set.
DENIED_CUSTOM_HEADERS = frozenset({
    "cache-control", "connection", "content-length", "cookie", "host", "if-match", "if-modified-since",
    "if-none-match", "if-range", "if-unmodified-since", "max-forwards", "pragma", "proxy-authorization",
    "proxy-connection", "range", "request-range", "te", "trailer", "transfer-encoding", "upgrade", "via",
    "x-real-ip",
})
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# What the edge writes into its requests to origins: an origin's domain name (the Host field), its
# OriginPath, the default root object and error pages (the request line: visible ASCII), its
# CustomHeaders' values (visible ASCII, spaces and tabs). A line break would add fields of its own.
_ORIGIN_DOMAIN = re.compile(r"[A-Za-z0-9._-]+")
_TARGET_TEXT = re.compile(r"[!-~]*")
_FIELD_VALUE = re.compile(r"[ -~\t]*")

_HOST_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ALIAS = re.compile(rf"(?:\*\.)?(?:{_HOST_LABEL}\.)*{_HOST_LABEL}", re.IGNORECASE)
_S3_DOMAIN = re.compile(
    r"(?P<bucket>[a-z0-9][a-z0-9.-]*?[a-z0-9])\.s3(?:[.-][a-z0-9-]+)?\.(?:amazonaws\.com|localhost)", re.IGNORECASE
)


def bucket_of(origin: Origin) -> str | None:
    """The strato bucket an S3 origin names by its domain (`<bucket>.s3.<region>.amazonaws.com`,
    `<bucket>.s3.amazonaws.com` or `<bucket>.s3.localhost`), or None for any other domain."""
    match = _S3_DOMAIN.fullmatch(origin.domain_name)
    return match.group("bucket").lower() if match else None

_OAI_PATH = "origin-access-identity/cloudfront/"


def origin_access_identity(origin: Origin) -> str:
    """The id of the origin access identity an S3 origin names (`origin-access-identity/cloudfront/ID`),
    or "" when it names none; the form is checked by check_config."""
    return origin.s3.origin_access_identity.removeprefix(_OAI_PATH) if origin.s3 is not None else ""


def check_access_control_type(origin: Origin, control: OriginAccessControlConfig) -> None:
    """An S3 origin's origin access control is of type s3 and a custom origin's of another
    (CloudFront: "Illegal configuration: The origin type and OAC origin type differ.")."""
    if (control.origin_type == "s3") != (origin.s3 is not None):
        raise IllegalOriginAccessConfiguration(
            f"The origin type and OAC origin type differ: origin {origin.id}, origin access control "
            f"{origin.origin_access_control_id} of type {control.origin_type}.")


def check_config(config: DistributionConfig) -> None:
    """Raise the error CloudFront gives for the first rule `config` breaks."""
    if len(config.comment) > MAX_COMMENT:
        raise InvalidArgument(f"The parameter Comment is too long (at most {MAX_COMMENT} characters).")
    if not config.caller_reference:
        raise InvalidArgument("The parameter CallerReference must not be empty.")
    for alias in config.aliases or ():
        if len(alias) > 253 or not _ALIAS.fullmatch(alias):
            raise InvalidArgument(f"The parameter CNAME contains an invalid domain name: {alias}")
    if len({alias.lower() for alias in config.aliases or ()}) != len(config.aliases or ()):
        raise InvalidArgument("The parameter Aliases contains the same CNAME twice.")
    root = config.default_root_object
    if root is not None and (root.startswith("/") or len(root) > 255 or not _TARGET_TEXT.fullmatch(root)):
        raise InvalidDefaultRootObject("The specified default root object is invalid.")
    if config.price_class is not None and config.price_class not in PRICE_CLASSES:
        raise InvalidArgument(f"The parameter PriceClass has an invalid value: {config.price_class}")
    if config.http_version is not None and config.http_version not in HTTP_VERSIONS:
        raise InvalidArgument(f"The parameter HttpVersion has an invalid value: {config.http_version}")
    _check_origins(config.origins)
    _check_origin_groups(config)
    _check_error_responses(config.custom_error_responses or ())
    patterns: set[str] = set()
    for behavior in (config.default_behavior, *config.behaviors):
        _check_behavior(behavior, config)
        if behavior.path_pattern is not None:
            if behavior.path_pattern in patterns:
                raise InvalidArgument(f"The path pattern {behavior.path_pattern} is used by two cache behaviors.")
            patterns.add(behavior.path_pattern)


def _check_origins(origins: tuple[Origin, ...]) -> None:
    if not origins:
        raise InvalidArgument("The parameter Origins must contain at least one origin.")
    if len({origin.id for origin in origins}) != len(origins):
        raise InvalidArgument("The parameter Origins contains the same origin Id twice.")
    for origin in origins:
        if not origin.id or not origin.domain_name:
            raise InvalidOrigin("An origin needs an Id and a DomainName.")
        if ":" in origin.domain_name:  # the port is CustomOriginConfig's HTTPPort / HTTPSPort
            raise InvalidArgument("The parameter origin name cannot contain a colon.")
        _check_origin_texts(origin)
        if (origin.s3 is None) == (origin.custom is None):
            raise InvalidOrigin(f"Origin {origin.id} must have exactly one of S3OriginConfig and CustomOriginConfig.")
        if origin.s3 is not None and bucket_of(origin) is None:
            raise InvalidOrigin(f"The S3 origin {origin.domain_name} does not name a bucket "
                                "(<bucket>.s3.<region>.amazonaws.com or <bucket>.s3.localhost).")
        _check_origin_access(origin)
        if origin.origin_path is not None and origin.origin_path and (
            not origin.origin_path.startswith("/") or origin.origin_path.endswith("/")
        ):
            raise InvalidArgument("The parameter OriginPath must begin with a slash and must not end with one.")
        for name, _ in origin.custom_headers or ():
            lowered = name.lower()
            if (not _TOKEN.fullmatch(name) or lowered in DENIED_CUSTOM_HEADERS
                    or lowered.startswith(("x-amz-", "x-edge-"))):
                raise InvalidArgument(f"The parameter HeaderName : {name} is not allowed.")
        _check_timeouts(origin)
        custom = origin.custom
        if custom is not None:
            if custom.protocol_policy not in ORIGIN_PROTOCOL_POLICIES:
                raise InvalidArgument(f"The parameter OriginProtocolPolicy has an invalid value: "
                                      f"{custom.protocol_policy}")
            for port in (custom.http_port, custom.https_port):
                if not 1 <= port <= 65535:
                    raise InvalidArgument(f"The origin port {port} is out of range.")


def _check_origin_texts(origin: Origin) -> None:
    """The domain name, path and custom header values the edge writes into requests to the origin."""
    if not _ORIGIN_DOMAIN.fullmatch(origin.domain_name):
        raise InvalidArgument(f"The parameter origin name must be a domain name: {origin.domain_name[:100]!r}")
    if origin.origin_path is not None and not _TARGET_TEXT.fullmatch(origin.origin_path):
        raise InvalidArgument(f"The parameter OriginPath holds a character a URL path cannot: "
                              f"{origin.origin_path[:100]!r}")
    for name, value in origin.custom_headers or ():
        if not _FIELD_VALUE.fullmatch(value):
            raise InvalidArgument(f"The parameter HeaderValue of {name} holds a character an HTTP field value "
                                  "cannot.")


def _check_error_responses(responses: tuple[CustomErrorResponse, ...]) -> None:
    """API_CustomErrorResponse.html: one rule per customizable ErrorCode; a ResponsePagePath
    (starting with '/') and a ResponseCode go together; ErrorCachingMinTTL is not negative.
    An empty ResponsePagePath or ResponseCode counts as none, as the console sends them."""
    if len({response.error_code for response in responses}) != len(responses):
        raise InvalidArgument("The parameter CustomErrorResponses names the same ErrorCode twice.")
    for response in responses:
        if response.error_code not in CUSTOMIZABLE_ERRORS:
            raise InvalidErrorCode(f"The ErrorCode {response.error_code} cannot be customized: use one of "
                                   f"{', '.join(str(code) for code in sorted(CUSTOMIZABLE_ERRORS))}.")
        page, code = response.response_page_path or None, response.response_code or None
        if page is not None and (not page.startswith("/") or len(page) > MAX_PATH_LENGTH
                                 or not _TARGET_TEXT.fullmatch(page)):
            raise InvalidRelativePath(f"The ResponsePagePath {page[:100]} must begin with a slash (/).")
        if code is not None and code not in RESPONSE_CODES:
            raise InvalidResponseCode(f"The ResponseCode {code[:10]} is not valid: use 200 or one of the "
                                      "customizable error codes.")
        if (page is None) != (code is None):
            raise InvalidArgument(f"The CustomErrorResponse for {response.error_code} must give both "
                                  "ResponsePagePath and ResponseCode, or neither.")
        if response.error_caching_min_ttl is not None and response.error_caching_min_ttl < 0:
            raise InvalidArgument("The parameter ErrorCachingMinTTL must not be negative.")


def _check_behavior(behavior: Behavior, config: DistributionConfig) -> None:
    if behavior.path_pattern is not None and not behavior.path_pattern:
        raise InvalidArgument("The parameter PathPattern must not be empty.")
    if not config.targets(behavior.target_origin_id):
        raise NoSuchOrigin(f"One or more of your origins or origin groups do not exist: {behavior.target_origin_id}")
    if config.group(behavior.target_origin_id) is not None and \
            not set(behavior.allowed_methods or ()) <= FAILOVER_METHODS:
        raise InvalidArgument("The parameter AllowedMethods cannot include POST, PUT, PATCH, or DELETE for a cached "
                              "behavior associated with an origin group.")
    if behavior.viewer_protocol_policy not in VIEWER_PROTOCOL_POLICIES:
        raise InvalidArgument(f"The parameter ViewerProtocolPolicy has an invalid value: "
                              f"{behavior.viewer_protocol_policy}")
    allowed = frozenset(behavior.allowed_methods or ("GET", "HEAD"))
    if allowed not in ALLOWED_METHOD_SETS:
        raise InvalidArgument("The parameter AllowedMethods must be GET, HEAD; GET, HEAD, OPTIONS; "
                              "or GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE.")
    cached = frozenset(behavior.cached_methods or ("GET", "HEAD"))
    if cached not in CACHED_METHOD_SETS or not cached <= allowed:
        raise InvalidArgument("The parameter CachedMethods must be GET, HEAD or GET, HEAD, OPTIONS, "
                              "and among the allowed methods.")
    _check_cache_settings(behavior)  # a custom policy's id is the registry's to find
    forwarded = behavior.forwarded_values
    if forwarded is not None and forwarded.cookies.forward not in COOKIE_FORWARDS:
        raise InvalidArgument(f"The parameter Cookies.Forward has an invalid value: {forwarded.cookies.forward}")
    if forwarded is not None and forwarded.cookies.forward == "whitelist" and not forwarded.cookies.whitelisted_names:
        raise InvalidForwardCookies("The parameter Cookies.Forward is whitelist: WhitelistedNames must name the "
                                    "cookies to forward.")
    if forwarded is not None:
        _check_forwarded_headers(forwarded.headers or ())
    ttls = [ttl for ttl in (behavior.min_ttl, behavior.default_ttl, behavior.max_ttl) if ttl is not None]
    if any(ttl < 0 for ttl in ttls):
        raise InvalidArgument("TTLs must not be negative.")
    if ttls != sorted(ttls):
        raise InvalidTTLOrder("The TTLs must satisfy MinTTL <= DefaultTTL <= MaxTTL.")


def _check_cache_settings(behavior: Behavior) -> None:
    """A behaviour uses a cache policy (with, optionally, an origin request policy) or the legacy
    ForwardedValues and TTLs, never both (DeveloperGuide/controlling-origin-requests.html: no
    origin request policy without a cache policy), with the messages CloudFront answers."""
    if behavior.cache_policy_id is None:
        if behavior.forwarded_values is None:
            raise InvalidArgument("The parameter ForwardedValues is required.")
        if behavior.origin_request_policy_id is not None:
            raise InvalidArgument("The parameter OriginRequestPolicyId cannot be used without a cache policy "
                                  "associated to the cache behavior.")
        return
    if behavior.forwarded_values is not None:
        raise InvalidArgument("The parameter ForwardedValues cannot be used when a cache policy is associated to "
                              "the cache behavior.")
    for name, ttl in (("MinTTL", behavior.min_ttl), ("DefaultTTL", behavior.default_ttl),
                      ("MaxTTL", behavior.max_ttl)):
        if ttl is not None:
            raise InvalidArgument(f"The parameter {name} cannot be used when a cache policy is associated to the "
                                  "cache behavior.")


def _check_forwarded_headers(names: tuple[str, ...]) -> None:
    """ForwardedValues.Headers: `*` alone, or names CloudFront can cache on, each once."""
    if "*" in names and len(names) > 1:
        raise InvalidArgument("The parameter Headers may hold * only on its own.")
    if len({name.lower() for name in names}) != len(names):
        raise InvalidArgument("The parameter Headers contains the same header twice.")
    for name in names:
        lowered = name.lower()
        if name != "*" and (not _TOKEN.fullmatch(name) or lowered in UNCACHEABLE_HEADERS
                            or lowered.startswith("x-edge-")):
            raise InvalidArgument(f"The parameter Header Name with value {name} is not allowed.")


def _check_timeouts(origin: Origin) -> None:
    """DeveloperGuide/DownloadDistValuesOrigin.html: ConnectionAttempts 1-3, ConnectionTimeout
    1-10 s, a custom origin's OriginReadTimeout and OriginKeepaliveTimeout 1-60 s, up to 180 s
    with a raised quota (strato's are raised)."""
    custom = origin.custom
    bounds: tuple[tuple[str, int | None, int, type[CdnError]], ...] = (
        ("ConnectionAttempts", origin.connection_attempts, 3, InvalidArgument),
        ("ConnectionTimeout", origin.connection_timeout, 10, InvalidArgument),
        ("OriginReadTimeout", custom.read_timeout if custom is not None else None, 180, InvalidOriginReadTimeout),
        ("OriginKeepaliveTimeout", custom.keepalive_timeout if custom is not None else None, 180,
         InvalidOriginKeepaliveTimeout))
    for name, value, most, error in bounds:
        if value is not None and not 1 <= value <= most:
            raise error(f"The parameter {name} must be from 1 to {most}.")


def _check_origin_groups(config: DistributionConfig) -> None:
    ids = {origin.id for origin in config.origins}
    for group in config.origin_groups or ():
        if not group.id or group.id in ids:
            raise InvalidArgument(f"The origin group Id {group.id} must be unique among the origins and origin groups.")
        ids.add(group.id)
        if len(group.members) != 2 or group.members[0] == group.members[1]:
            raise InvalidArgument(f"The origin group {group.id} must have exactly two different member origins.")
        missing = [member for member in group.members if config.origin(member) is None]
        if missing:
            raise NoSuchOrigin(f"One or more of your origins or origin groups do not exist: {missing[0]}")
        if not group.failover_statuses or not set(group.failover_statuses) <= FAILOVER_STATUSES:
            raise InvalidArgument(f"The origin group {group.id} fails over on 1 to {len(FAILOVER_STATUSES)} of the "
                                  f"status codes {', '.join(map(str, sorted(FAILOVER_STATUSES)))}.")
        if len(set(group.failover_statuses)) != len(group.failover_statuses):
            raise InvalidArgument(f"The origin group {group.id} names a failover status code twice.")
        if group.selection_criteria is not None and group.selection_criteria not in SELECTION_CRITERIA:
            raise InvalidArgument(f"The parameter SelectionCriteria has an invalid value: {group.selection_criteria}")


def _check_origin_access(origin: Origin) -> None:
    named = origin.s3.origin_access_identity if origin.s3 is not None else ""
    if not named:
        return
    identity = origin_access_identity(origin)
    if not named.startswith(_OAI_PATH) or not (identity.isascii() and identity.isalnum()):
        raise InvalidOriginAccessIdentity(f"The origin access identity {named} is not of the form "
                                          f"{_OAI_PATH}ID.")
    if origin.origin_access_control_id:
        raise IllegalOriginAccessConfiguration("An origin cannot name both an origin access control and an origin "
                                               "access identity.")


# DeveloperGuide/Invalidation.html: non-ASCII characters and RFC 1738's unsafe ones (space
# < > " # % { } | \ ^ ~ [ ] `) are sent URL-encoded; CloudFront refuses a path holding them as
# they are (a viewer's request never does).
_INVALIDATION_PATH = re.compile(r"(?:[A-Za-z0-9$\-_.+!*'(),;/?:@=&]|%[0-9A-Fa-f]{2})*")


def check_paths(paths: tuple[str, ...]) -> None:
    """An invalidation batch: 1 to 3,000 paths, each starting with '/', URL-encoded, with '*' only last."""
    if not paths:
        raise InvalidArgument("Your request contains fewer than one invalidation path.")
    if len(paths) > MAX_PATHS:
        raise BatchTooLarge(f"An invalidation batch holds at most {MAX_PATHS} paths.")
    for path in paths:
        if not path.startswith("/") or len(path) > MAX_PATH_LENGTH:
            raise InvalidArgument(f"The invalidation path {path[:100]} must start with a slash.")
        if not _INVALIDATION_PATH.fullmatch(path):
            raise InvalidArgument("Your request contains one or more invalid invalidation paths (URL-encode "
                                  f"non-ASCII and unsafe characters): {path[:100]}")
        if "*" in path[:-1]:
            raise InvalidArgument(f"The invalidation path {path[:100]} may hold a * only as its last character.")


_TAG_TEXT = re.compile(r"[\w\s_.:/=+@-]*")


def check_tags(tags: tuple[tuple[str, str], ...]) -> None:
    """Tag keys of 1-128 and values of 0-256 letters, digits, spaces and `_ . : / = + - @`, at most 50."""
    if len(tags) > 50 or len({key for key, _ in tags}) != len(tags):
        raise InvalidTagging("A resource has at most 50 tags, each key once.")
    for key, value in tags:
        if not 1 <= len(key) <= 128 or len(value) > 256 or not _TAG_TEXT.fullmatch(key + value):
            raise InvalidTagging(f"The tag {key[:128]} is not valid.")
