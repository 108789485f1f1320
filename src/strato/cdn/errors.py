"""Domain errors of the CDN control plane; each protocol maps them to its own error form."""

from __future__ import annotations


class CdnError(Exception):
    """Base of every CDN control-plane error; the message is meant for the client."""


class NoSuchDistribution(CdnError):
    pass


class NoSuchInvalidation(CdnError):
    pass


class NoSuchOrigin(CdnError):
    """A cache behaviour targets an origin id the distribution does not have."""


class MissingIfMatch(CdnError):
    """An update or delete without the ETag it applies to."""


class PreconditionFailed(CdnError):
    """The ETag given is not the distribution's current one."""


class DistributionNotDisabled(CdnError):
    pass


class DistributionAlreadyExists(CdnError):
    """A CallerReference already used by another distribution."""


class CNAMEAlreadyExists(CdnError):
    """An alias another distribution already has."""


class IllegalUpdate(CdnError):
    pass


class ImmutablePublicKeyFields(CdnError):
    """An update changing a public key's EncodedKey or CallerReference."""


class TooManyPublicKeysInKeyGroup(CdnError):
    pass


class InvalidationBatchAlreadyExists(CdnError):
    """A CallerReference reused for a different batch of paths."""


class InvalidArgument(CdnError):
    pass


class InvalidOrigin(CdnError):
    pass


class InvalidTTLOrder(CdnError):
    pass


class InvalidOriginReadTimeout(CdnError):
    pass


class InvalidOriginKeepaliveTimeout(CdnError):
    pass


class InvalidForwardCookies(CdnError):
    """ForwardedValues.Cookies whitelisting no cookie names."""


class InvalidDefaultRootObject(CdnError):
    pass


class InvalidErrorCode(CdnError):
    """A CustomErrorResponse for a status CloudFront does not let one customize."""


class InvalidResponseCode(CdnError):
    """A CustomErrorResponse answering with a status CloudFront does not offer."""


class InvalidRelativePath(CdnError):
    """A ResponsePagePath that does not begin with a slash, or is too long."""


class BatchTooLarge(CdnError):
    pass


class ResourceError(CdnError):
    """An error about a public key, key group, origin access control or identity or a custom
    policy; `kind` says which."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class NoSuchResource(ResourceError):
    pass


class ResourceAlreadyExists(ResourceError):
    """The name is taken by another resource of the same kind."""


class ResourceInUse(ResourceError):
    """A distribution or key group still refers to the resource."""


class TrustedKeyGroupDoesNotExist(CdnError):
    pass


class InvalidOriginAccessIdentity(CdnError):
    """An S3 origin's OriginAccessIdentity is not `origin-access-identity/cloudfront/ID` of an
    existing identity."""


class IllegalOriginAccessConfiguration(CdnError):
    """An origin names both an origin access control and an origin access identity."""


class NoSuchCachePolicy(CdnError):
    """A CachePolicyId that names no cache policy, managed or the account's own."""


class NoSuchOriginRequestPolicy(CdnError):
    """An OriginRequestPolicyId that names no origin request policy, managed or the account's own."""


class NoSuchResponseHeadersPolicy(CdnError):
    """A ResponseHeadersPolicyId that names no response headers policy, managed or the account's own."""


class PolicyQuotaExceeded(CdnError):
    """A response headers policy past one of CloudFront's bounds on it; `what` says which
    (custom-headers, remove-headers, content-security-policy)."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__(message)
        self.what = what


class InvalidTagging(CdnError):
    pass


class NoSuchFunctionExists(CdnError):
    pass


class FunctionAlreadyExists(CdnError):
    pass


class FunctionInUse(CdnError):
    """A distribution's behaviour still associates the function."""


class FunctionSizeLimitExceeded(CdnError):
    pass


class InvalidFunctionAssociation(CdnError):
    """A FunctionAssociation naming no published function, or an event type functions cannot run on."""
