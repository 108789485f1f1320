"""The CDN edge inside `strato serve`: public buckets by path, distributions chosen by Host,
private buckets signed for, any HTTP origin, and CloudFront invalidations applied."""

from __future__ import annotations

import base64
import datetime
import http.client
import re
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.conftest import make_client
from tests.e2e.lambda_helpers import deploy
from tests.e2e.web import get, public_read
from tests.edge.origin import Origin, Route
from tests.servers import StratoServer


@pytest.fixture
def origin() -> Iterator[Origin]:
    running = Origin()
    yield running
    running.close()


def behavior(origin_id: str, **extra: Any) -> dict[str, Any]:
    return {"TargetOriginId": origin_id, "ViewerProtocolPolicy": "allow-all",
            "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}},
            "MinTTL": 0, "DefaultTTL": 60, "MaxTTL": 3600, **extra}


def create_distribution(cloudfront: Any, alias: str, origins: list[dict[str, Any]], default: str,
                        behaviors: list[dict[str, Any]] | None = None, **extra: Any) -> str:
    created = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [alias]},
        "Origins": {"Quantity": len(origins), "Items": origins},
        "DefaultCacheBehavior": behavior(default),
        "CacheBehaviors": {"Quantity": len(behaviors or []), "Items": behaviors or []},
        **extra,
    })
    return str(created["Distribution"]["Id"])


def s3_origin(bucket: str, origin_id: str = "bucket", oac: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"Id": origin_id, "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
                             "S3OriginConfig": {"OriginAccessIdentity": ""}}
    if oac:
        found["OriginAccessControlId"] = oac
    return found


def http_origin(url: str, origin_id: str = "web") -> dict[str, Any]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return {"Id": origin_id, "DomainName": host,
            "CustomOriginConfig": {"HTTPPort": int(port), "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}


def access_control(cloudfront: Any, signing: str = "always") -> str:
    """A new S3 origin access control of SigningBehavior `signing`."""
    return str(cloudfront.create_origin_access_control(OriginAccessControlConfig={
        "Name": uuid.uuid4().hex, "SigningProtocol": "sigv4", "SigningBehavior": signing,
        "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"])


def private_bucket_alias(cloudfront: Any, bucket: str, oac: str | None = None, **default: Any) -> str:
    """A new alias whose distribution reads the private bucket through an origin access control
    (`oac`, else a new one signing always), its default behaviour with the `default` settings."""
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    create_distribution(cloudfront, alias, [s3_origin(bucket, oac=oac or access_control(cloudfront))], "bucket",
                        DefaultCacheBehavior=behavior("bucket", **default))
    return alias


def served(server: StratoServer, path: str, alias: str, headers: dict[str, str] | None = None, status: int = 200,
           ) -> tuple[int, dict[str, str], bytes]:
    """The edge's answer for `path` on `alias`, once it has `status` or 10 s have passed (the edge
    reloads distributions each second)."""
    deadline = time.monotonic() + 10
    answer = get(f"{server.edge_url}{path}", host=alias, headers=headers)
    while answer[0] != status and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = get(f"{server.edge_url}{path}", host=alias, headers=headers)
    return answer


def test_a_public_bucket_is_served_and_cached_by_path(server: StratoServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="site/index.html", Body=b"<h1>hi</h1>", CacheControl="max-age=300",
                  ContentType="text/html")
    public_read(s3, bucket)
    status, headers, body = get(f"{server.edge_url}/{bucket}/site/index.html")
    assert (status, body) == (200, b"<h1>hi</h1>")
    assert "fwd=uri-miss" in headers["cache-status"]
    status, headers, body = get(f"{server.edge_url}/{bucket}/site/index.html")
    assert (status, body) == (200, b"<h1>hi</h1>")
    assert "hit" in headers["cache-status"]
    assert headers["content-type"] == "text/html"


def test_a_private_bucket_is_not_served_by_the_default_distribution(server: StratoServer, s3: Any,
                                                                     bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="secret.txt", Body=b"mine")
    status, _, body = get(f"{server.edge_url}/{bucket}/secret.txt")
    assert status == 403
    assert b"mine" not in body


def test_an_origin_access_control_serves_a_private_bucket_only_through_its_alias(
    server: StratoServer, s3: Any, bucket: str, cloudfront: Any
) -> None:
    s3.put_object(Bucket=bucket, Key="docs/a b.txt", Body=b"signed for", CacheControl="max-age=300")
    alias = private_bucket_alias(cloudfront, bucket)
    deadline = time.monotonic() + 10
    status, _, body = get(f"{server.edge_url}/docs/a%20b.txt", host=alias)
    while status != 200 and time.monotonic() < deadline:  # the edge reloads distributions each second
        time.sleep(0.2)
        status, _, body = get(f"{server.edge_url}/docs/a%20b.txt", host=alias)
    assert (status, body) == (200, b"signed for")
    assert get(f"{server.edge_url}/{bucket}/docs/a%20b.txt")[0] == 403


def test_an_origin_access_control_signing_always_overwrites_a_forwarded_authorization(
    server: StratoServer, s3: Any, bucket: str, cloudfront: Any
) -> None:
    """API_OriginAccessControlConfig: `always` signs every origin request, overwriting the
    viewer's Authorization field (forwarded here by the behaviour's Headers)."""
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"signed for")
    alias = private_bucket_alias(cloudfront, bucket, ForwardedValues={
        "QueryString": False, "Cookies": {"Forward": "none"}, "Headers": {"Quantity": 1, "Items": ["Authorization"]}})
    status, _, body = served(server, "/doc.txt", alias, headers={"Authorization": "Bearer viewer"})
    assert (status, body) == (200, b"signed for")


def test_an_origin_access_control_signing_never_leaves_a_private_bucket_unread(
    server: StratoServer, s3: Any, bucket: str, cloudfront: Any
) -> None:
    """API_OriginAccessControlConfig: `never` signs no origin request, turning the control off
    for every distribution using it (here once it is updated to `never`)."""
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"signed for")
    oac = access_control(cloudfront)
    alias = private_bucket_alias(cloudfront, bucket, oac, MinTTL=0, DefaultTTL=0, MaxTTL=0)
    assert served(server, "/doc.txt", alias)[2] == b"signed for"
    answer = cloudfront.get_origin_access_control_config(Id=oac)
    cloudfront.update_origin_access_control(Id=oac, IfMatch=answer["ETag"], OriginAccessControlConfig={
        **answer["OriginAccessControlConfig"], "SigningBehavior": "never"})
    status, _, body = served(server, "/doc.txt", alias, status=403)
    assert status == 403
    assert b"signed for" not in body


def test_an_origin_access_control_signing_no_override_passes_the_viewers_authorization_along(
    server: StratoServer, s3: Any, bucket: str, cloudfront: Any
) -> None:
    """API_OriginAccessControlConfig: `no-override` signs only requests without the viewer's
    Authorization, and passes one along unsigned (S3 then judges it: this one it cannot read)."""
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"signed for")
    alias = private_bucket_alias(cloudfront, bucket, access_control(cloudfront, "no-override"), ForwardedValues={
        "QueryString": False, "Cookies": {"Forward": "none"}, "Headers": {"Quantity": 1, "Items": ["Authorization"]}})
    assert served(server, "/doc.txt", alias)[2] == b"signed for"
    status, _, body = get(f"{server.edge_url}/doc.txt", host=alias, headers={"Authorization": "Bearer viewer"})
    assert status == 400
    assert b"<Code>InvalidArgument</Code>" in body


def test_behaviours_route_paths_to_their_origins(server: StratoServer, s3: Any, bucket: str, cloudfront: Any,
                                                 origin: Origin) -> None:
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"from the bucket", CacheControl="max-age=60")
    public_read(s3, bucket)
    origin.routes["/api/items"] = Route(200, {"Cache-Control": "no-store", "Content-Type": "application/json"},
                                        b'{"from": "the api"}')
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    create_distribution(cloudfront, alias, [s3_origin(bucket), http_origin(origin.url)], "bucket",
                        [behavior("web", PathPattern="/api/*")], DefaultRootObject="index.html")
    deadline = time.monotonic() + 10
    while get(f"{server.edge_url}/", host=alias)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert get(f"{server.edge_url}/", host=alias)[2] == b"from the bucket"
    assert get(f"{server.edge_url}/api/items", host=alias)[2] == b'{"from": "the api"}'
    assert origin.count("/api/items") == 1


def test_a_function_url_is_an_origin_the_edge_caches(server: StratoServer, cloudfront: Any, lam: Any) -> None:
    """The CDN in front of a function: its URL's host (`<id>.lambda-url.<region>.localhost`,
    which the edge takes for the loopback address, RFC 6761) as a custom origin."""
    name = deploy(lam, """
calls = 0
def handler(event, context):
    global calls
    calls += 1
    return {"statusCode": 200, "headers": {"Cache-Control": "max-age=60", "Content-Type": "text/plain"},
            "body": f"{event['rawPath']} {calls}"}
""")
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    lam.add_permission(FunctionName=name, StatementId="public", Action="lambda:InvokeFunctionUrl", Principal="*",
                       FunctionUrlAuthType="NONE")
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    create_distribution(cloudfront, alias, [http_origin(url.rstrip("/"))], "web")
    deadline = time.monotonic() + 10
    while get(f"{server.edge_url}/hello", host=alias)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    first = get(f"{server.edge_url}/page", host=alias)
    again = get(f"{server.edge_url}/page", host=alias)
    assert (first[0], first[2][:6]) == (200, b"/page ")
    assert (again[2], again[1]["cache-status"].split(";")[1].strip()) == (first[2], "hit")


def test_an_origin_access_control_signs_for_an_iam_function_url(server: StratoServer, cloudfront: Any,
                                                               lam: Any) -> None:
    """AWS CloudFront DeveloperGuide/private-content-restricting-access-to-lambda.html: a function
    URL of AuthType AWS_IAM behind an origin access control of type lambda answers the edge's
    signed requests, and no unsigned one."""
    name = deploy(lam, """
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": event["rawPath"]}
""")
    url = lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")["FunctionUrl"].rstrip("/")
    oac = cloudfront.create_origin_access_control(OriginAccessControlConfig={
        "Name": uuid.uuid4().hex, "SigningProtocol": "sigv4", "SigningBehavior": "always",
        "OriginAccessControlOriginType": "lambda"})["OriginAccessControl"]["Id"]
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    create_distribution(cloudfront, alias, [{**http_origin(url), "OriginAccessControlId": oac}], "web")
    assert served(server, "/some/page", alias)[::2] == (200, b"/some/page")
    status, _, body = get(f"{server.url}/some/page", host=url.removeprefix("http://"))
    assert (status, body[:21]) == (403, b'{"Message":"Forbidden')


def test_a_cloudfront_invalidation_purges_the_edge(server: StratoServer, s3: Any, bucket: str,
                                                   cloudfront: Any) -> None:
    s3.put_object(Bucket=bucket, Key="news/today.txt", Body=b"old news", CacheControl="max-age=3600")
    public_read(s3, bucket)
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    distribution = create_distribution(cloudfront, alias, [s3_origin(bucket)], "bucket")
    url = f"{server.edge_url}/news/today.txt"
    deadline = time.monotonic() + 10
    while get(url, host=alias)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert get(url, host=alias)[2] == b"old news"
    s3.put_object(Bucket=bucket, Key="news/today.txt", Body=b"new news", CacheControl="max-age=3600")
    assert get(url, host=alias)[2] == b"old news"  # fresh in the cache for an hour
    cloudfront.create_invalidation(DistributionId=distribution, InvalidationBatch={
        "Paths": {"Quantity": 1, "Items": ["/news/*"]}, "CallerReference": uuid.uuid4().hex})
    deadline = time.monotonic() + 10
    while get(url, host=alias)[2] != b"new news" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert get(url, host=alias)[2] == b"new news"


def test_invalidating_the_default_root_object_by_its_path_refreshes_the_root(
        server: StratoServer, s3: Any, bucket: str, cloudfront: Any) -> None:
    """DeveloperGuide/Invalidation.html: the default root object is invalidated by its path, as
    a deploy invalidates /index.html; what `/` answered must go too."""
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"release 1", CacheControl="max-age=3600")
    public_read(s3, bucket)
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    distribution = create_distribution(cloudfront, alias, [s3_origin(bucket)], "bucket", DefaultRootObject="index.html")
    deadline = time.monotonic() + 10
    while get(f"{server.edge_url}/", host=alias)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert get(f"{server.edge_url}/", host=alias)[2] == b"release 1"
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"release 2", CacheControl="max-age=3600")
    assert get(f"{server.edge_url}/", host=alias)[2] == b"release 1"  # fresh in the cache for an hour
    cloudfront.create_invalidation(DistributionId=distribution, InvalidationBatch={
        "Paths": {"Quantity": 1, "Items": ["/index.html"]}, "CallerReference": uuid.uuid4().hex})
    deadline = time.monotonic() + 10
    while get(f"{server.edge_url}/", host=alias)[2] != b"release 2" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert get(f"{server.edge_url}/", host=alias)[2] == b"release 2"


# -- what a distribution's cache behaviours ask of the edge ----------------------------------

@dataclass
class Site:
    """One distribution in front of an HTTP origin, whose behaviours each enforce one setting."""

    alias: str
    id: str
    origin: Origin
    signer: CloudFrontSigner
    stranger: CloudFrontSigner  # signs with a key no key group holds
    impostor: CloudFrontSigner  # names the trusted key's id, signs with another key
    sha256: CloudFrontSigner  # the trusted key, hashing with SHA-256 (URLs then say Hash-Algorithm=SHA256)


def rsa_signer(key: rsa.RSAPrivateKey, algorithm: hashes.HashAlgorithm | None = None) -> Callable[[bytes], bytes]:
    return lambda message: key.sign(message, padding.PKCS1v15(), algorithm or hashes.SHA1())


def at(epoch: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)


@pytest.fixture(scope="module")
def site(server: StratoServer, cloudfront: Any) -> Iterator[Site]:
    origin = Origin()
    trusted, other = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    pem = trusted.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    key_id = cloudfront.create_public_key(PublicKeyConfig={
        "CallerReference": uuid.uuid4().hex, "Name": uuid.uuid4().hex, "EncodedKey": pem})["PublicKey"]["Id"]
    group = cloudfront.create_key_group(KeyGroupConfig={"Name": uuid.uuid4().hex, "Items": [key_id]})["KeyGroup"]
    every_method = {"Quantity": 7, "Items": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
                    "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}}
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    distribution = create_distribution(cloudfront, alias, [http_origin(origin.url)], "web", [
        behavior("web", PathPattern="/media/*",
                 TrustedKeyGroups={"Enabled": True, "Quantity": 1, "Items": [group["Id"]]}),
        behavior("web", PathPattern="/api/*", AllowedMethods=every_method),
        behavior("web", PathPattern="/static/*", MinTTL=0, DefaultTTL=60, MaxTTL=100,
                 ForwardedValues={"QueryString": False, "Cookies": {"Forward": "none"}}),
        behavior("web", PathPattern="/pinned/*", MinTTL=30, DefaultTTL=60, MaxTTL=100),
        behavior("web", PathPattern="/search/*", ForwardedValues={
            "QueryString": True, "Cookies": {"Forward": "none"},
            "QueryStringCacheKeys": {"Quantity": 1, "Items": ["q"]}}),
    ])
    origin.routes["/ready"] = Route(200, {"Cache-Control": "no-store"}, b"ready")
    deadline = time.monotonic() + 10
    while get(f"{server.edge_url}/ready", host=alias)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.1)  # the edge reloads distributions each second
    yield Site(alias, distribution, origin, CloudFrontSigner(key_id, rsa_signer(trusted)),
               CloudFrontSigner("K" + uuid.uuid4().hex[:13].upper(), rsa_signer(other)),
               CloudFrontSigner(key_id, rsa_signer(other)),
               CloudFrontSigner(key_id, rsa_signer(trusted, hashes.SHA256())))
    origin.close()


def kept_alive_get(server: StratoServer, path: str, host: str) -> tuple[int, dict[str, str], bytes]:
    netloc = server.edge_url.removeprefix("http://")
    connection = http.client.HTTPConnection(netloc, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": host})
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


def cloudfront_b64(data: bytes) -> str:
    """CloudFront's URL-safe base64 ('-', '_', '~' for '+', '=', '/')."""
    return base64.b64encode(data).decode().replace("+", "-").replace("=", "_").replace("/", "~")


def signed(signer: CloudFrontSigner, url: str, expires: float | None = None, policy: str | None = None) -> str:
    if policy is not None:
        return str(signer.generate_presigned_url(url, policy=policy))
    return str(signer.generate_presigned_url(url, date_less_than=at(expires or time.time() + 3600)))


class TestSignedUrls:
    """A behaviour with TrustedKeyGroups serves only CloudFront signed URLs of its keys."""

    def test_a_canned_signed_url_is_served_and_an_unsigned_one_refused_even_once_cached(
        self, server: StratoServer, site: Site
    ) -> None:
        site.origin.routes["/media/clip.txt"] = Route(200, {"Cache-Control": "max-age=300"}, b"members only")
        status, _, body = get(signed(site.signer, f"http://{site.alias}/media/clip.txt").replace(
            f"http://{site.alias}", server.edge_url), host=site.alias)
        assert (status, body) == (200, b"members only")
        for _ in range(2):  # on a kept-alive connection, where fresh hits take the edge's fast path
            status, headers, body = kept_alive_get(server, "/media/clip.txt", site.alias)
            assert status == 403
        assert headers["content-type"] == "text/xml"
        assert b"<Code>MissingKey</Code>" in body
        assert b"members only" not in body

    def test_signing_parameters_are_neither_in_the_cache_key_nor_sent_to_the_origin(
        self, server: StratoServer, site: Site
    ) -> None:
        site.origin.routes["/media/song.txt"] = Route(200, {"Cache-Control": "max-age=300"}, b"la la")
        for expires in (time.time() + 600, time.time() + 1200):  # two different signatures
            url = signed(site.signer, f"http://{site.alias}/media/song.txt?v=2", expires)
            status, headers, body = get(url.replace(f"http://{site.alias}", server.edge_url), host=site.alias)
            assert (status, body) == (200, b"la la")
        assert "hit" in headers["cache-status"]
        assert [seen.path for seen in site.origin.seen if seen.path.startswith("/media/song")] == [
            "/media/song.txt?v=2"]

    def test_a_url_signed_over_sha256_says_so_and_keeps_that_from_the_origin(
        self, server: StratoServer, site: Site
    ) -> None:
        """AWS CloudFront DeveloperGuide/private-content-creating-signed-url-canned-policy.html:
        Hash-Algorithm=SHA256 after Key-Pair-Id, a signing parameter like the others."""
        site.origin.routes["/media/sha.txt"] = Route(200, {"Cache-Control": "max-age=300"}, b"hashed")
        url = signed(site.sha256, f"http://{site.alias}/media/sha.txt?v=1").replace(f"http://{site.alias}",
                                                                                      server.edge_url)
        assert get(url + "&Hash-Algorithm=SHA256", host=site.alias)[::2] == (200, b"hashed")
        assert get(url, host=site.alias)[0] == 403  # taken for a SHA-1 signature, which it is not
        assert [seen.path for seen in site.origin.seen if seen.path.startswith("/media/sha")] == ["/media/sha.txt?v=1"]

    def test_a_custom_policy_covers_the_urls_its_resource_names(self, server: StratoServer, site: Site) -> None:
        site.origin.routes["/media/a/1.txt"] = Route(200, {}, b"one")
        policy = site.signer.build_policy(f"http://{site.alias}/media/a/*", at(time.time() + 600))
        url = signed(site.signer, f"http://{site.alias}/media/a/1.txt", policy=policy)
        assert get(url.replace(f"http://{site.alias}", server.edge_url), host=site.alias)[:3:2] == (200, b"one")
        other = signed(site.signer, f"http://{site.alias}/media/b.txt", policy=policy)
        assert get(other.replace(f"http://{site.alias}", server.edge_url), host=site.alias)[0] == 403

    @pytest.mark.parametrize(("who", "expired", "code"), [
        ("signer", True, b"AccessDenied"), ("impostor", False, b"AccessDenied"), ("stranger", False, b"InvalidKey"),
    ])
    def test_an_expired_wrongly_signed_or_unknown_key_url_is_refused(
        self, server: StratoServer, site: Site, who: str, expired: bool, code: bytes
    ) -> None:
        site.origin.routes["/media/clip.txt"] = Route(200, {"Cache-Control": "max-age=300"}, b"members only")
        signer = getattr(site, who)
        url = signed(signer, f"http://{site.alias}/media/clip.txt", time.time() - 1 if expired else None)
        status, _, body = get(url.replace(f"http://{site.alias}", server.edge_url), host=site.alias)
        assert status == 403
        assert b"<Code>" + code + b"</Code>" in body
        assert b"members only" not in body

    def test_signed_cookies_admit_what_their_policy_covers(self, server: StratoServer, site: Site) -> None:
        site.origin.routes["/media/b/2.txt"] = Route(200, {}, b"two")
        policy = site.signer.build_policy(f"http://{site.alias}/media/b/*", at(time.time() + 600))
        cookie = "; ".join([
            f"CloudFront-Policy={cloudfront_b64(policy.encode())}",
            f"CloudFront-Signature={cloudfront_b64(site.signer.rsa_signer(policy.encode()))}",
            f"CloudFront-Key-Pair-Id={site.signer.key_id}"])
        assert get(f"{server.edge_url}/media/b/2.txt", host=site.alias, headers={"Cookie": cookie})[:3:2] == (
            200, b"two")
        assert get(f"{server.edge_url}/media/c.txt", host=site.alias, headers={"Cookie": cookie})[0] == 403

    def test_paths_outside_the_signed_behaviour_need_no_signature(self, server: StratoServer, site: Site) -> None:
        site.origin.routes["/open.txt"] = Route(200, {}, b"for all")
        assert get(f"{server.edge_url}/open.txt", host=site.alias)[:3:2] == (200, b"for all")


def test_an_ecdsa_key_signs_urls_a_behaviour_trusts(server: StratoServer, cloudfront: Any, origin: Origin) -> None:
    """API_PublicKey: "CloudFront supports signed URLs and signed cookies with RSA 2048 or ECDSA 256
    key signatures"."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    key_id = cloudfront.create_public_key(PublicKeyConfig={
        "CallerReference": uuid.uuid4().hex, "Name": uuid.uuid4().hex, "EncodedKey": pem})["PublicKey"]["Id"]
    group = cloudfront.create_key_group(KeyGroupConfig={"Name": uuid.uuid4().hex, "Items": [key_id]})["KeyGroup"]
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    create_distribution(cloudfront, alias, [http_origin(origin.url)], "web", DefaultCacheBehavior=behavior(
        "web", TrustedKeyGroups={"Enabled": True, "Quantity": 1, "Items": [group["Id"]]}))
    origin.routes["/clip.txt"] = Route(200, {}, b"curved")
    signer = CloudFrontSigner(key_id, lambda message: key.sign(message, ec.ECDSA(hashes.SHA1())))
    target = signed(signer, f"http://{alias}/clip.txt").removeprefix(f"http://{alias}")
    assert served(server, target, alias)[::2] == (200, b"curved")
    assert get(f"{server.edge_url}/clip.txt", host=alias)[0] == 403


class TestBehaviourSettings:
    def test_a_method_the_behaviour_does_not_allow_is_refused_before_the_origin(
        self, server: StratoServer, site: Site
    ) -> None:
        status, _, body = get(f"{server.edge_url}/form", host=site.alias, method="POST", body=b"x=1")
        assert status == 403
        assert b"not configured to allow the HTTP request method" in body
        assert not [seen for seen in site.origin.seen if seen.path == "/form"]

    def test_a_behaviour_allowing_every_method_passes_them_to_the_origin(
        self, server: StratoServer, site: Site
    ) -> None:
        site.origin.routes["/api/items"] = Route(201, {}, b"created")
        assert get(f"{server.edge_url}/api/items", host=site.alias, method="POST", body=b"{}")[:3:2] == (
            201, b"created")

    def test_a_behaviour_forwarding_no_query_string_drops_it_from_the_key_and_the_origin(
        self, server: StratoServer, site: Site
    ) -> None:
        site.origin.routes["/static/app.js"] = Route(200, {"Cache-Control": "max-age=50"}, b"app()")
        for query in ("?v=1", "?v=2", ""):
            assert get(f"{server.edge_url}/static/app.js{query}", host=site.alias)[:3:2] == (200, b"app()")
        assert [seen.path for seen in site.origin.seen if seen.path.startswith("/static/app")] == ["/static/app.js"]

    def test_query_string_cache_keys_key_on_the_named_parameters_and_forward_all(
        self, server: StratoServer, site: Site
    ) -> None:
        site.origin.routes["/search/go"] = Route(200, {"Cache-Control": "max-age=60"}, b"results")
        for query in ("?q=cats&utm=a", "?utm=b&q=cats", "?q=dogs"):
            assert get(f"{server.edge_url}/search/go{query}", host=site.alias)[2] == b"results"
        assert [seen.path for seen in site.origin.seen if seen.path.startswith("/search/go")] == [
            "/search/go?q=cats&utm=a", "/search/go?q=dogs"]

    def test_a_behaviour_forwarding_no_cookies_keeps_them_from_the_origin(
        self, server: StratoServer, site: Site
    ) -> None:
        site.origin.routes["/api/me"] = Route(200, {"Cache-Control": "no-store"}, b"you")
        assert get(f"{server.edge_url}/api/me", host=site.alias, headers={"Cookie": "session=abc"})[2] == b"you"
        seen = [seen for seen in site.origin.seen if seen.path == "/api/me"]
        assert len(seen) == 1
        assert "cookie" not in seen[0].headers

    @pytest.mark.parametrize(("origin_says", "lifetime"), [
        ({}, 60),  # no expiration from the origin: DefaultTTL
        ({"Cache-Control": "max-age=3600"}, 100),  # clamped to MaxTTL
        ({"Cache-Control": "max-age=70"}, 70),  # within the bounds: as the origin says
        ({"Expires": "Thu, 01 Jan 1970 00:00:00 GMT"}, 0),  # already expired: MinTTL
    ])
    def test_ttls_follow_cloudfronts_rules_and_the_client_sees_the_origins_fields(
        self, server: StratoServer, site: Site, origin_says: dict[str, str], lifetime: int
    ) -> None:
        path = f"/static/{uuid.uuid4().hex}.css"
        site.origin.routes[path] = Route(200, {**origin_says, "ETag": '"v1"'}, b"body{}")
        get(f"{server.edge_url}{path}", host=site.alias)
        status, headers, _ = get(f"{server.edge_url}{path}", host=site.alias)
        assert status == 200
        if lifetime:
            assert "hit" in headers["cache-status"]
            ttl = int(headers["cache-status"].split("ttl=")[1].split(";")[0])
            assert ttl + int(headers["age"]) in (lifetime - 1, lifetime)  # both are whole seconds, rounded down
        else:
            assert "fwd=" in headers["cache-status"]
        assert headers.get("cache-control") == origin_says.get("Cache-Control")
        assert "cdn-cache-control" not in headers

    def test_a_min_ttl_above_zero_caches_what_the_origin_calls_uncacheable(
        self, server: StratoServer, site: Site
    ) -> None:
        site.origin.routes["/pinned/now.txt"] = Route(200, {"Cache-Control": "no-store"}, b"pinned")
        site.origin.routes["/static/now.txt"] = Route(200, {"Cache-Control": "no-store"}, b"not pinned")
        for _ in range(2):
            get(f"{server.edge_url}/pinned/now.txt", host=site.alias)
            get(f"{server.edge_url}/static/now.txt", host=site.alias)
        assert site.origin.count("/pinned/now.txt") == 1
        assert site.origin.count("/static/now.txt") == 2


def metric(server: StratoServer, name: str, distribution: str) -> float:
    with urllib.request.urlopen(f"{server.edge_url}/_strato/metrics", timeout=10) as response:
        text = response.read().decode()
    found = re.search(rf'^{name}{{distribution="{distribution}"}} ([0-9.e+-]+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_metrics_are_kept_per_distribution(server: StratoServer, site: Site, s3: Any, bucket: str) -> None:
    site.origin.routes["/counted.txt"] = Route(200, {"Cache-Control": "max-age=300"}, b"12345")
    s3.put_object(Bucket=bucket, Key="counted.txt", Body=b"1234567", CacheControl="max-age=300")
    public_read(s3, bucket)
    names = ("strato_edge_distribution_hits_total", "strato_edge_distribution_misses_total",
             "strato_edge_distribution_origin_fetches_total", "strato_edge_distribution_bytes_served_total")
    before = {(name, d): metric(server, name, d) for name in names for d in (site.id, "default")}
    for _ in range(2):
        assert get(f"{server.edge_url}/counted.txt", host=site.alias)[2] == b"12345"
    assert kept_alive_get(server, "/counted.txt", site.alias)[2] == b"12345"  # a hit on the fast path
    assert get(f"{server.edge_url}/{bucket}/counted.txt")[2] == b"1234567"
    grown = {key: metric(server, *key) - value for key, value in before.items()}
    assert grown[("strato_edge_distribution_hits_total", site.id)] == 2
    assert grown[("strato_edge_distribution_misses_total", site.id)] == 1
    assert grown[("strato_edge_distribution_origin_fetches_total", site.id)] == 1
    assert grown[("strato_edge_distribution_bytes_served_total", site.id)] == 15
    assert grown[("strato_edge_distribution_misses_total", "default")] >= 1
    assert grown[("strato_edge_distribution_bytes_served_total", "default")] >= 7
    assert metric(server, "strato_edge_distribution_origin_seconds_total", site.id) > 0


class TestNoWayAround:
    """What a client may not do to reach what a distribution protects."""

    def test_percent_encoding_the_path_does_not_escape_a_signed_behaviour(
        self, server: StratoServer, site: Site
    ) -> None:
        site.origin.routes["/media/secret.txt"] = Route(200, {"Cache-Control": "max-age=300"}, b"members only")
        for path in ("/%6Dedia/secret.txt", "/media%2Fsecret.txt", "/%6D%65dia/secret.txt"):
            status, _, body = get(f"{server.edge_url}{path}", host=site.alias)
            assert status == 403, path
            assert b"members only" not in body

    def test_a_second_host_field_does_not_choose_the_distribution(self, server: StratoServer, site: Site) -> None:
        site.origin.routes["/media/twice.txt"] = Route(200, {"Cache-Control": "max-age=300"}, b"members only")
        netloc = server.edge_url.removeprefix("http://")
        host, port = netloc.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(f"GET /media/twice.txt HTTP/1.1\r\nHost: nothing.test\r\nHost: {site.alias}\r\n"
                         "Connection: close\r\n\r\n".encode())
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert b"members only" not in answer
        assert site.origin.count("/media/twice.txt") == 0

    def test_an_origin_access_control_reads_objects_and_nothing_else(
        self, server: StratoServer, s3: Any, bucket: str, cloudfront: Any
    ) -> None:
        s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"an object")
        alias = private_bucket_alias(cloudfront, bucket)
        deadline = time.monotonic() + 10
        while get(f"{server.edge_url}/doc.txt", host=alias)[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert get(f"{server.edge_url}/doc.txt", host=alias)[2] == b"an object"
        for path in ("/?list-type=2", "/", "/%2F?list-type=2"):  # listings of the private bucket
            status, _, body = get(f"{server.edge_url}{path}", host=alias)
            assert status == 403, path
            assert b"doc.txt" not in body
        status, _, body = get(f"{server.edge_url}/doc.txt?policy", host=alias)  # not GetBucketPolicy
        assert (status, body) == (200, b"an object")


def test_a_viewer_that_never_reads_does_not_hold_up_a_shutdown(tmp_path: Any) -> None:
    """SIGTERM stops the edge within its request timeout (2 s here), whatever its connections
    do; a client that pipelined large answers and reads none of them held it up for good."""
    server = StratoServer(tmp_path / "data", env={"STRATO_REQUEST_TIMEOUT": "2"}).start()
    try:
        s3 = make_client(server.url)
        s3.create_bucket(Bucket="never-read")
        s3.put_object(Bucket="never-read", Key="big", Body=b"x" * (8 * 1024 * 1024), CacheControl="max-age=600")
        public_read(s3, "never-read")
        assert get(f"{server.edge_url}/never-read/big")[0] == 200  # cached
        host, port = server.edge_url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port))) as viewer:
            viewer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            viewer.sendall(b"GET /never-read/big HTTP/1.1\r\nHost: x\r\n\r\n" * 20)
            time.sleep(1)
            assert server.stop(timeout=30) == 0
    finally:
        if server.alive():
            server.kill()
