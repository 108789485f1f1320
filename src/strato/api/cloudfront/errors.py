"""CloudFrontError, the one error type of the CloudFront protocol, rendered as CloudFront's
<ErrorResponse>, and the table mapping CDN, auth and body errors to it. Anything not in the
table is a 500 InternalError, logged with its request id."""

from __future__ import annotations

from collections.abc import Callable

from strato.api.signed import xml_auth_error
from strato.auth.errors import AuthError
from strato.cdn import errors as cdn
from strato.errortable import translate
from strato.http.bodies import BodyIncomplete, BodyTimeout, BodyTooLarge
from strato.http.request import MalformedRequest
from strato.xmltree import MalformedXML, Node, serialize

NAMESPACE = "http://cloudfront.amazonaws.com/doc/2020-05-31/"


class CloudFrontError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def body(self, request_id: str) -> bytes:
        kind = "Sender" if self.status < 500 else "Receiver"
        error = Node("Error", children=[Node("Type", kind), Node("Code", self.code), Node("Message", self.message)])
        return serialize(Node("ErrorResponse", children=[error, Node("RequestId", request_id)]), NAMESPACE)


def malformed_input(message: str) -> CloudFrontError:
    return CloudFrontError("MalformedInput", message)


def not_implemented(what: str) -> CloudFrontError:
    return CloudFrontError("NotImplemented", f"{what} is not implemented by strato yet.", 501)


_Mapper = Callable[[Exception], CloudFrontError]


def _status(code: str, status: int) -> _Mapper:
    return lambda exc: CloudFrontError(code, str(exc), status)


# Per kind of resource: the codes for (no such, already exists, in use).
_RESOURCE_CODES = {
    "distribution": ("NoSuchResource", "DistributionAlreadyExists", "ResourceInUse"),
    "public-key": ("NoSuchPublicKey", "PublicKeyAlreadyExists", "PublicKeyInUse"),
    "key-group": ("NoSuchResource", "KeyGroupAlreadyExists", "ResourceInUse"),
    "origin-access-control": ("NoSuchOriginAccessControl", "OriginAccessControlAlreadyExists",
                              "OriginAccessControlInUse"),
    "origin-access-identity": ("NoSuchCloudFrontOriginAccessIdentity", "CloudFrontOriginAccessIdentityAlreadyExists",
                               "CloudFrontOriginAccessIdentityInUse"),
    "cache-policy": ("NoSuchCachePolicy", "CachePolicyAlreadyExists", "CachePolicyInUse"),
    "origin-request-policy": ("NoSuchOriginRequestPolicy", "OriginRequestPolicyAlreadyExists",
                              "OriginRequestPolicyInUse"),
    "response-headers-policy": ("NoSuchResponseHeadersPolicy", "ResponseHeadersPolicyAlreadyExists",
                                "ResponseHeadersPolicyInUse"),
}
# A response headers policy's quotas: what PolicyQuotaExceeded.what names -> CloudFront's code.
_QUOTA_CODES = {
    "custom-headers": "TooManyCustomHeadersInResponseHeadersPolicy",
    "remove-headers": "TooManyRemoveHeadersInResponseHeadersPolicy",
    "content-security-policy": "TooLongCSPInResponseHeadersPolicy",
}


def _resource(which: int, status: int) -> _Mapper:
    def mapper(exc: Exception) -> CloudFrontError:
        assert isinstance(exc, cdn.ResourceError)
        return CloudFrontError(_RESOURCE_CODES[exc.kind][which], str(exc), status)

    return mapper


def _quota(exc: Exception) -> CloudFrontError:
    assert isinstance(exc, cdn.PolicyQuotaExceeded)
    return CloudFrontError(_QUOTA_CODES[exc.what], str(exc))


_TABLE: dict[type[Exception], _Mapper] = {
    cdn.NoSuchDistribution: _status("NoSuchDistribution", 404),
    cdn.NoSuchInvalidation: _status("NoSuchInvalidation", 404),
    cdn.NoSuchOrigin: _status("NoSuchOrigin", 404),
    cdn.MissingIfMatch: _status("InvalidIfMatchVersion", 400),
    cdn.PreconditionFailed: _status("PreconditionFailed", 412),
    cdn.DistributionNotDisabled: _status("DistributionNotDisabled", 409),
    cdn.DistributionAlreadyExists: _status("DistributionAlreadyExists", 409),
    cdn.CNAMEAlreadyExists: _status("CNAMEAlreadyExists", 409),
    cdn.IllegalUpdate: _status("IllegalUpdate", 400),
    cdn.ImmutablePublicKeyFields: _status("CannotChangeImmutablePublicKeyFields", 400),
    cdn.TooManyPublicKeysInKeyGroup: _status("TooManyPublicKeysInKeyGroup", 400),
    cdn.InvalidationBatchAlreadyExists: _status("InvalidationBatchAlreadyExists", 409),
    cdn.InvalidArgument: _status("InvalidArgument", 400),
    cdn.InvalidOrigin: _status("InvalidOrigin", 400),
    cdn.InvalidTTLOrder: _status("InvalidTTLOrder", 400),
    cdn.InvalidOriginReadTimeout: _status("InvalidOriginReadTimeout", 400),
    cdn.InvalidOriginKeepaliveTimeout: _status("InvalidOriginKeepaliveTimeout", 400),
    cdn.InvalidForwardCookies: _status("InvalidForwardCookies", 400),
    cdn.InvalidDefaultRootObject: _status("InvalidDefaultRootObject", 400),
    cdn.InvalidErrorCode: _status("InvalidErrorCode", 400),
    cdn.InvalidResponseCode: _status("InvalidResponseCode", 400),
    cdn.InvalidRelativePath: _status("InvalidRelativePath", 400),
    cdn.BatchTooLarge: _status("BatchTooLarge", 413),
    cdn.TrustedKeyGroupDoesNotExist: _status("TrustedKeyGroupDoesNotExist", 400),
    cdn.InvalidOriginAccessIdentity: _status("InvalidOriginAccessIdentity", 400),
    cdn.IllegalOriginAccessConfiguration: _status("IllegalOriginAccessConfiguration", 400),
    cdn.NoSuchCachePolicy: _status("NoSuchCachePolicy", 404),
    cdn.NoSuchOriginRequestPolicy: _status("NoSuchOriginRequestPolicy", 404),
    cdn.NoSuchResponseHeadersPolicy: _status("NoSuchResponseHeadersPolicy", 404),
    cdn.InvalidTagging: _status("InvalidTagging", 400),
    cdn.PolicyQuotaExceeded: _quota,
    cdn.NoSuchFunctionExists: _status("NoSuchFunctionExists", 404),
    cdn.FunctionAlreadyExists: _status("FunctionAlreadyExists", 409),
    cdn.FunctionInUse: _status("FunctionInUse", 409),
    cdn.FunctionSizeLimitExceeded: _status("FunctionSizeLimitExceeded", 413),
    cdn.InvalidFunctionAssociation: _status("InvalidFunctionAssociation", 400),
    cdn.NoSuchResource: _resource(0, 404),
    cdn.ResourceAlreadyExists: _resource(1, 409),
    cdn.ResourceInUse: _resource(2, 409),
    MalformedXML: lambda exc: malformed_input(f"The XML you provided was not well-formed: {exc}"),
    BodyTooLarge: lambda exc: malformed_input("The request body is too large."),
    BodyIncomplete: lambda exc: CloudFrontError("IncompleteBody", "The request body ended early."),
    BodyTimeout: lambda exc: CloudFrontError("RequestTimeout", "The request body was not sent in time."),
    MalformedRequest: lambda exc: CloudFrontError("InvalidArgument", "The request URI could not be parsed."),
    AuthError: lambda exc: CloudFrontError(*xml_auth_error(exc)),  # type: ignore[arg-type]
}


def to_cloudfront_error(exc: Exception) -> CloudFrontError | None:
    """The CloudFront error for a known failure, or None for a bug (which becomes a 500)."""
    return translate(exc, CloudFrontError, _TABLE)
