"""Origin request policies: what one holds, how a custom one is checked, and AWS's managed
ones, the ones a cache behaviour may name by OriginRequestPolicyId besides the account's own:
what origin requests carry beyond the cache key, with their real ids and settings (AWS
CloudFront DeveloperGuide/using-managed-origin-request-policies.html, cloudfront-limits.html).
The comments of AllViewer, AllViewerExceptHostHeader and CORS-S3Origin are AWS's; the others
are strato's summaries of the guide's descriptions."""

from __future__ import annotations

from dataclasses import dataclass

from .managed import ALL, NONE, Selection, check_policy, refuse_headers

MAX_NAMES = 30  # headers, cookies and query strings an origin request policy may each list
_HEADERS = ("none", "whitelist", "allViewer", "allViewerAndWhitelistCloudFront", "allExcept")
_OTHERS = ("none", "whitelist", "all", "allExcept")


@dataclass(frozen=True, slots=True)
class OriginRequestPolicy:
    """An OriginRequestPolicyConfig: the viewer's headers, cookies and query strings that go to
    the origin besides those the cache policy puts in the key."""

    name: str
    comment: str
    headers: Selection
    cookies: Selection = NONE
    query_strings: Selection = NONE


def check_origin_request_policy(policy: OriginRequestPolicy) -> None:
    """A custom origin request policy's config, refused as CloudFront refuses it."""
    check_policy(policy.name, policy.comment, (("headers", policy.headers, _HEADERS, MAX_NAMES),
                                               ("cookies", policy.cookies, _OTHERS, MAX_NAMES),
                                               ("query strings", policy.query_strings, _OTHERS, MAX_NAMES)),
                 "origin request policy")
    refuse_headers(policy.headers, ("authorization", "accept-encoding"), "origin request policy",
                   "a cache policy forwards it, in the key")


ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
ALL_VIEWER_AND_CLOUDFRONT_HEADERS = "33f36d7e-f396-46d9-90e0-52428a34d9dc"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
CORS_CUSTOM_ORIGIN = "59781a5b-3903-41f3-afcb-af62929ccde1"
CORS_S3_ORIGIN = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"
ELEMENTAL_MEDIA_TAILOR = "775133bc-15f2-49f9-abea-afb2e0bf67d2"
HOST_HEADER_ONLY = "bf0718e1-ba1e-49d1-88b1-f726733018ae"
USER_AGENT_REFERER_HEADERS = "acba4595-bd28-49b8-b9fe-13317c0390fa"

# The CloudFront headers released through June 2022, which AllViewerAndCloudFrontHeaders-2022-06
# names. The edge computes those it can (device type, protocol, HTTP version, address: see
# strato.edge.cloudfront_fields); location and TLS fields it cannot, and does not send.
CLOUDFRONT_HEADERS_2022_06 = (
    "CloudFront-Forwarded-Proto", "CloudFront-Is-Android-Viewer", "CloudFront-Is-Desktop-Viewer",
    "CloudFront-Is-IOS-Viewer", "CloudFront-Is-Mobile-Viewer", "CloudFront-Is-SmartTV-Viewer",
    "CloudFront-Is-Tablet-Viewer", "CloudFront-Viewer-Address", "CloudFront-Viewer-ASN", "CloudFront-Viewer-City",
    "CloudFront-Viewer-Country", "CloudFront-Viewer-Country-Name", "CloudFront-Viewer-Country-Region",
    "CloudFront-Viewer-Country-Region-Name", "CloudFront-Viewer-Http-Version", "CloudFront-Viewer-Latitude",
    "CloudFront-Viewer-Longitude", "CloudFront-Viewer-Metro-Code", "CloudFront-Viewer-Postal-Code",
    "CloudFront-Viewer-Time-Zone", "CloudFront-Viewer-TLS",
)
# The managed policies with which CloudFront keeps these parameters from an S3 origin, since
# they change the headers S3 answers with (the guide's "Important" note).
S3_WITHHELD_QUERY = ("response-content-type", "response-content-disposition", "response-content-encoding")
S3_WITHHOLDING = frozenset({ALL_VIEWER, ALL_VIEWER_AND_CLOUDFRONT_HEADERS, ALL_VIEWER_EXCEPT_HOST_HEADER,
                            ELEMENTAL_MEDIA_TAILOR})

MANAGED: dict[str, OriginRequestPolicy] = {
    ALL_VIEWER: OriginRequestPolicy(
        "Managed-AllViewer", "Policy to forward all parameters in viewer requests",
        Selection("allViewer"), cookies=ALL, query_strings=ALL),
    ALL_VIEWER_AND_CLOUDFRONT_HEADERS: OriginRequestPolicy(
        "Managed-AllViewerAndCloudFrontHeaders-2022-06",
        "Policy to forward all parameters in viewer requests and all CloudFront headers released through June 2022",
        Selection("allViewerAndWhitelistCloudFront", CLOUDFRONT_HEADERS_2022_06), cookies=ALL, query_strings=ALL),
    ALL_VIEWER_EXCEPT_HOST_HEADER: OriginRequestPolicy(
        "Managed-AllViewerExceptHostHeader",
        "Policy to forward all parameters in viewer requests except for the Host header",
        Selection("allExcept", ("host",)), cookies=ALL, query_strings=ALL),
    CORS_CUSTOM_ORIGIN: OriginRequestPolicy(
        "Managed-CORS-CustomOrigin", "Policy for Custom Origin with CORS", Selection("whitelist", ("Origin",))),
    CORS_S3_ORIGIN: OriginRequestPolicy(
        "Managed-CORS-S3Origin", "Policy for S3 origin with CORS",
        Selection("whitelist", ("Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method"))),
    ELEMENTAL_MEDIA_TAILOR: OriginRequestPolicy(
        "Managed-Elemental-MediaTailor-PersonalizedManifests", "Policy for Elemental MediaTailor Origin",
        Selection("whitelist", ("Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method",
                                "User-Agent", "X-Forwarded-For")), query_strings=ALL),
    HOST_HEADER_ONLY: OriginRequestPolicy(
        "Managed-HostHeaderOnly", "Policy to forward only the Host header", Selection("whitelist", ("Host",))),
    USER_AGENT_REFERER_HEADERS: OriginRequestPolicy(
        "Managed-UserAgentRefererHeaders", "Policy for forwarding only the User-Agent and Referer headers",
        Selection("whitelist", ("User-Agent", "Referer"))),
}
