"""`strato edge --config FILE` (edge/distribution_file.py): a standalone edge serving the
CloudFront distributions of a file of CloudFront's own JSON, as `strato serve`'s edge serves
them: real edge processes, real origins, a real strato server exported with boto3 and the aws CLI."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from strato.cdn.cache_policies import CACHING_DISABLED
from tests.e2e.test_cloudfront_policies import origin_request_policy_config
from tests.e2e.test_serve_edge import access_control, http_origin
from tests.e2e.web import get
from tests.edge.conftest import StratoEdge
from tests.edge.origin import Origin, Route
from tests.edge.test_signed_urls import rsa_signer
from tests.servers import ACCESS_KEY, REGION, SECRET_KEY, StratoServer

KEYS = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": REGION}


def legacy(target: str, path: str | None = None, **fields: Any) -> dict[str, Any]:
    """A cache behaviour with the legacy settings (ForwardedValues, TTLs) and `fields`."""
    return {**({"PathPattern": path} if path else {}), "TargetOriginId": target, "ViewerProtocolPolicy": "allow-all",
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 31536000, **fields}


def exported(alias: str, origins: list[dict[str, Any]], default: dict[str, Any],
             behaviours: tuple[dict[str, Any], ...] = (), **fields: Any) -> dict[str, Any]:
    """A distribution as `aws cloudfront get-distribution-config` prints it."""
    return {"ETag": "E2QWRUHAPOMQZL", "DistributionConfig": {
        "CallerReference": f"ref-{alias}", "Comment": "", "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [alias]},
        "Origins": {"Quantity": len(origins), "Items": origins},
        "DefaultCacheBehavior": default,
        "CacheBehaviors": {"Quantity": len(behaviours), "Items": list(behaviours)}, **fields}}


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, indent=2, default=str))
    return path


@pytest.fixture
def other() -> Iterator[Origin]:
    running = Origin()
    yield running
    running.close()


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[StratoEdge]]:
    edges: list[StratoEdge] = []
    yield edges
    for edge in edges:
        edge.stop()


def edge_for(started: list[StratoEdge], tmp_path: Path, document: Any, *args: str, origin: str = "") -> StratoEdge:
    config = write(tmp_path / "distributions.json", document)
    edge = StratoEdge(origin, tmp_path / "cache", "--config", str(config), *args).start()
    started.append(edge)
    return edge


def page(edge: StratoEdge, host: str, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    return get(f"{edge.url}{path}", host=host, headers=headers)


def refused(config: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """What `strato edge --config` says when it will not start (it must not)."""
    done = subprocess.run([sys.executable, "-m", "strato", "edge", "--config", str(config), "--port", "0",
                           "--cache-dir", str(config.parent / "cache"), *args], capture_output=True, text=True,
                          timeout=60, env={**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
                                           **(env or {})})
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    return done.stderr.strip()


class TestServingTheFilesDistributions:
    def test_each_host_gets_its_distribution_and_each_path_its_behaviour(
            self, origin: Origin, other: Origin, tmp_path: Path, started: list[StratoEdge]) -> None:
        origin.routes["/page"] = Route(200, {"Cache-Control": "no-store"}, b"web page")
        other.routes["/page"] = Route(200, {"Cache-Control": "no-store"}, b"other page")
        other.routes["/static/app.css"] = Route(200, {"Cache-Control": "no-store"}, b"css")
        edge = edge_for(started, tmp_path, {"Distributions": [
            exported("www.example.com", [http_origin(origin.url), http_origin(other.url, "assets")], legacy("web"),
                     (legacy("assets", "/static/*"),)),
            exported("shop.example.com", [http_origin(other.url, "shop")], legacy("shop")),
            {"ETag": "E3", "Distribution": {  # as `get-distribution` prints it: by its own domain name too
                "Id": "EDFDVBD6EXAMPLE", "DomainName": "d111111abcdef8.cloudfront.net", "Status": "Deployed",
                "DistributionConfig": exported("blog.example.com", [http_origin(origin.url)],
                                               legacy("web"))["DistributionConfig"]}},
        ]})
        assert page(edge, "www.example.com", "/page")[2] == b"web page"
        assert page(edge, "www.example.com", "/static/app.css")[2] == b"css"
        assert page(edge, "shop.example.com", "/page")[2] == b"other page"
        assert page(edge, "d111111abcdef8.cloudfront.net", "/page")[2] == b"web page"

    def test_a_host_no_distribution_claims_is_refused_without_an_origin(
            self, origin: Origin, tmp_path: Path, started: list[StratoEdge]) -> None:
        edge = edge_for(started, tmp_path, exported("www.example.com", [http_origin(origin.url)], legacy("web")))
        assert page(edge, "elsewhere.example.com", "/page")[0] == 403
        assert origin.seen == []

    def test_a_host_no_distribution_claims_goes_to_the_origin_given(
            self, origin: Origin, other: Origin, tmp_path: Path, started: list[StratoEdge]) -> None:
        other.routes["/page"] = Route(200, {"Cache-Control": "no-store"}, b"plain origin")
        edge = edge_for(started, tmp_path, exported("www.example.com", [http_origin(origin.url)], legacy("web")),
                        origin=other.url)
        assert page(edge, "elsewhere.example.com", "/page")[2] == b"plain origin"

    def test_ttls_error_pages_and_origin_groups_apply_as_configured(
            self, origin: Origin, other: Origin, tmp_path: Path, started: list[StratoEdge]) -> None:
        """DefaultTTL caches what the origin gave no freshness; a 404 answers the error page; a
        group's secondary answers when its primary is down."""
        origin.routes["/cached"] = Route(200, {}, b"kept a minute")
        origin.routes["/errors/404.html"] = Route(200, {"Content-Type": "text/html"}, b"<p>not here</p>")
        other.routes["/failover"] = Route(200, {"Cache-Control": "no-store"}, b"from the secondary")
        dead = Origin()
        dead.down = True
        group = {"Id": "group", "FailoverCriteria": {"StatusCodes": {"Quantity": 2, "Items": [500, 502]}},
                 "Members": {"Quantity": 2, "Items": [{"OriginId": "dead"}, {"OriginId": "assets"}]}}
        try:
            edge = edge_for(started, tmp_path, exported(
                "www.example.com", [http_origin(origin.url), http_origin(dead.url, "dead"),
                                    http_origin(other.url, "assets")],
                legacy("web", DefaultTTL=60), (legacy("group", "/failover"),),
                OriginGroups={"Quantity": 1, "Items": [group]},
                CustomErrorResponses={"Quantity": 1, "Items": [{
                    "ErrorCode": 404, "ResponsePagePath": "/errors/404.html", "ResponseCode": "404",
                    "ErrorCachingMinTTL": 10}]}))
            assert [page(edge, "www.example.com", "/cached")[2] for _ in range(2)] == [b"kept a minute"] * 2
            assert len([seen for seen in origin.seen if seen.path == "/cached"]) == 1
            status, _, body = page(edge, "www.example.com", "/missing")
            assert (status, body) == (404, b"<p>not here</p>")
            assert page(edge, "www.example.com", "/failover")[2] == b"from the secondary"
        finally:
            dead.close()

    def test_signed_urls_are_checked_against_the_files_key_groups(
            self, origin: Origin, tmp_path: Path, started: list[StratoEdge]) -> None:
        origin.routes["/private/report.pdf"] = Route(200, {"Cache-Control": "no-store"}, b"report")
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        trusted = {"Enabled": True, "Quantity": 1, "Items": ["group-1"]}
        edge = edge_for(started, tmp_path, [
            exported("www.example.com", [http_origin(origin.url)], legacy("web"),
                     (legacy("web", "/private/*", TrustedKeyGroups=trusted),)),
            {"ETag": "E1", "KeyGroup": {"Id": "group-1", "KeyGroupConfig": {"Name": "signers", "Items": ["K1"]}}},
            {"ETag": "E2", "PublicKey": {"Id": "K1", "PublicKeyConfig": {
                "CallerReference": "k1", "Name": "signer", "EncodedKey": pem}}},
        ])
        url = "http://www.example.com/private/report.pdf"
        signed = CloudFrontSigner("K1", rsa_signer(key)).generate_presigned_url(
            url, date_less_than=datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5))
        assert page(edge, "www.example.com", "/private/report.pdf")[0] == 403
        status, _, body = page(edge, "www.example.com", signed.removeprefix("http://www.example.com"))
        assert (status, body) == (200, b"report")

    def test_a_custom_cache_policy_is_read_from_the_file(
            self, origin: Origin, tmp_path: Path, started: list[StratoEdge]) -> None:
        origin.routes["/cached"] = Route(200, {}, b"kept by the policy")
        policy = {"Name": "a-minute", "DefaultTTL": 60, "MaxTTL": 600, "MinTTL": 0,
                  "ParametersInCacheKeyAndForwardedToOrigin": {
                      "EnableAcceptEncodingGzip": True, "EnableAcceptEncodingBrotli": False,
                      "HeadersConfig": {"HeaderBehavior": "none"}, "CookiesConfig": {"CookieBehavior": "none"},
                      "QueryStringsConfig": {"QueryStringBehavior": "whitelist",
                                             "QueryStrings": {"Quantity": 1, "Items": ["v"]}}}}
        edge = edge_for(started, tmp_path, {
            "Distributions": [exported("www.example.com", [http_origin(origin.url)], {
                "TargetOriginId": "web", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": "my-policy"})],
            "CachePolicies": [{"CachePolicy": {"Id": "my-policy", "CachePolicyConfig": policy}}]})
        for path in ("/cached?v=1", "/cached?v=1&other=2", "/cached?v=2"):
            assert page(edge, "www.example.com", path)[2] == b"kept by the policy"
        assert [seen.path for seen in origin.seen] == ["/cached?v=1", "/cached?v=2"]

    def test_origin_request_and_response_headers_policies_are_read_from_the_file(
            self, origin: Origin, tmp_path: Path, started: list[StratoEdge]) -> None:
        origin.routes["/page"] = Route(200, {"Cache-Control": "no-store", "X-Powered-By": "php"}, b"page")
        edge = edge_for(started, tmp_path, {
            "Distributions": [exported("www.example.com", [http_origin(origin.url)], {
                "TargetOriginId": "web", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": CACHING_DISABLED,
                "OriginRequestPolicyId": "forwarding", "ResponseHeadersPolicyId": "headers"})],
            "OriginRequestPolicies": [{"OriginRequestPolicy": {
                "Id": "forwarding", "OriginRequestPolicyConfig": origin_request_policy_config("forwarding")}}],
            "ResponseHeadersPolicies": [{"ResponseHeadersPolicy": {"Id": "headers", "ResponseHeadersPolicyConfig": {
                "Name": "headers",
                "CustomHeadersConfig": {"Quantity": 1, "Items": [{"Header": "X-Site", "Value": "strato",
                                                                  "Override": True}]},
                "RemoveHeadersConfig": {"Quantity": 1, "Items": [{"Header": "X-Powered-By"}]}}}}]})
        _, headers, _ = page(edge, "www.example.com", "/page?page=2&other=1", Cookie="session=s1; theme=dark")
        assert (headers.get("x-site"), "x-powered-by" in headers) == ("strato", False)
        (seen,) = origin.seen
        assert (seen.path, seen.headers.get("cookie")) == ("/page?page=2", "session=s1")

    def test_a_distribution_named_by_its_caller_reference_is_a_well_formed_metrics_label(
            self, origin: Origin, tmp_path: Path, started: list[StratoEdge]) -> None:
        """Prometheus's text format escapes a label's backslash and double quote."""
        origin.routes["/page"] = Route(200, {"Cache-Control": "no-store"}, b"page")
        document = exported("www.example.com", [http_origin(origin.url)], legacy("web"))
        document["DistributionConfig"]["CallerReference"] = 'say "hi" \\ bye'
        edge = edge_for(started, tmp_path, document)
        page(edge, "www.example.com", "/page")
        _, _, metrics = get(f"{edge.url}/_strato/metrics")
        assert 'strato_edge_distribution_misses_total{distribution="say \\"hi\\" \\\\ bye"} 1' in metrics.decode()


class TestBucketOriginsOfAStratoServer:
    @pytest.fixture
    def private_site(self, server: StratoServer, s3: Any, cloudfront: Any, bucket: str) -> tuple[str, str]:
        """A distribution on `server` in front of a private bucket through an origin access
        control: its id and alias."""
        s3.put_object(Bucket=bucket, Key="index.html", Body=b"first", CacheControl="max-age=3600")
        alias = f"{uuid.uuid4().hex[:12]}.example.com"
        created = cloudfront.create_distribution(DistributionConfig={
            "CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True,
            "Aliases": {"Quantity": 1, "Items": [alias]}, "DefaultRootObject": "index.html",
            "Origins": {"Quantity": 1, "Items": [{
                "Id": "bucket", "DomainName": f"{bucket}.s3.{REGION}.amazonaws.com",
                "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": access_control(cloudfront)}]},
            "DefaultCacheBehavior": {"TargetOriginId": "bucket", "ViewerProtocolPolicy": "allow-all",
                                     "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}})
        return created["Distribution"]["Id"], alias

    def aws(self, server: StratoServer, *args: str) -> Any:
        """The aws CLI's JSON answer."""
        done = subprocess.run([Path(sys.executable).parent / "aws", "--endpoint-url", server.url, "--output", "json",
                               *args], capture_output=True, text=True, timeout=60, check=True,
                              env={**os.environ, **KEYS})
        return json.loads(done.stdout)

    def test_an_export_by_the_aws_cli_serves_a_private_bucket_signed_and_follows_its_invalidations(
            self, server: StratoServer, s3: Any, cloudfront: Any, bucket: str, private_site: tuple[str, str],
            tmp_path: Path, started: list[StratoEdge], monkeypatch: pytest.MonkeyPatch) -> None:
        distribution_id, alias = private_site
        oac_id = cloudfront.get_distribution_config(Id=distribution_id)[
            "DistributionConfig"]["Origins"]["Items"][0]["OriginAccessControlId"]
        document = [self.aws(server, "cloudfront", "get-distribution", "--id", distribution_id),
                    self.aws(server, "cloudfront", "get-origin-access-control", "--id", oac_id)]
        for name, value in KEYS.items():
            monkeypatch.setenv(name, value)
        edge = edge_for(started, tmp_path, document, "--invalidations-from", server.url, origin=server.url)
        assert get(f"{server.url}/{bucket}/index.html")[0] == 403, "the bucket is private"
        assert page(edge, alias, "/")[2] == b"first"
        s3.put_object(Bucket=bucket, Key="index.html", Body=b"second")
        assert page(edge, alias, "/")[2] == b"first", "cached for an hour"
        cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/index.html"]}, "CallerReference": uuid.uuid4().hex})
        deadline = time.monotonic() + 10
        while page(edge, alias, "/")[2] != b"second" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert page(edge, alias, "/")[2] == b"second"

    def test_a_bucket_read_through_a_legacy_origin_access_identity_needs_only_the_distribution(
            self, server: StratoServer, s3: Any, cloudfront: Any, bucket: str, tmp_path: Path,
            started: list[StratoEdge], monkeypatch: pytest.MonkeyPatch) -> None:
        """The identity's config tells the edge nothing: it signs for any S3 origin naming one."""
        s3.put_object(Bucket=bucket, Key="photo.jpg", Body=b"jpeg")
        identity = cloudfront.create_cloud_front_origin_access_identity(CloudFrontOriginAccessIdentityConfig={
            "CallerReference": uuid.uuid4().hex, "Comment": "edge"})["CloudFrontOriginAccessIdentity"]["Id"]
        alias = f"{uuid.uuid4().hex[:12]}.example.com"
        config = exported(alias, [{
            "Id": "bucket", "DomainName": f"{bucket}.s3.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": f"origin-access-identity/cloudfront/{identity}"}}],
            legacy("bucket"))
        distribution_id = cloudfront.create_distribution(DistributionConfig=config["DistributionConfig"])[
            "Distribution"]["Id"]
        for name, value in KEYS.items():
            monkeypatch.setenv(name, value)
        edge = edge_for(started, tmp_path, cloudfront.get_distribution(Id=distribution_id), origin=server.url)
        assert page(edge, alias, "/photo.jpg")[2] == b"jpeg"

    def test_a_boto3_export_of_a_signing_origin_needs_keys_and_its_access_control(
            self, cloudfront: Any, private_site: tuple[str, str], tmp_path: Path, server: StratoServer) -> None:
        distribution_id, _ = private_site
        exported = cloudfront.get_distribution_config(Id=distribution_id)
        oac_id = exported["DistributionConfig"]["Origins"]["Items"][0]["OriginAccessControlId"]
        config = write(tmp_path / "distributions.json", exported)
        assert refused(config, "--origin", server.url, env=KEYS) == (
            f"strato: --config {config}: distribution {exported['DistributionConfig']['CallerReference']}: "
            f"origin bucket: the origin-access-control {oac_id} is not in the file")
        write(config, [exported, cloudfront.get_origin_access_control(Id=oac_id)])
        assert refused(config, "--origin", server.url) == (
            f"strato: --config {config}: distribution {exported['DistributionConfig']['CallerReference']}: "
            "origin bucket is read with signed requests: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")


class TestRefusingAFileThatDoesNotRead:
    def test_a_missing_field_is_named(self, tmp_path: Path) -> None:
        document = exported("www.example.com", [http_origin("http://127.0.0.1:9")], legacy("web"))
        del document["DistributionConfig"]["DefaultCacheBehavior"]["TargetOriginId"]
        config = write(tmp_path / "distributions.json", {"Distributions": [document]})
        assert refused(config) == (f"strato: --config {config}: Distributions[0]: Missing required field "
                                   "TargetOriginId in DefaultCacheBehavior.")

    def test_a_value_quoted_is_kept_on_one_line(self, tmp_path: Path) -> None:
        document = exported("www.example.com", [http_origin("http://127.0.0.1:9")], legacy("web"))
        document["DistributionConfig"]["Aliases"]["Items"] = ["two\nlines.example.com"]
        config = write(tmp_path / "distributions.json", document)
        assert refused(config).endswith("invalid domain name: two\\nlines.example.com")

    def test_what_cloudfront_refuses_is_refused(self, tmp_path: Path) -> None:
        config = write(tmp_path / "distributions.json",
                       exported("www.example.com", [http_origin("http://127.0.0.1:9")], legacy("nowhere")))
        assert "nowhere" in refused(config)

    @pytest.mark.parametrize(("behaviour", "named"), [
        ({"TrustedKeyGroups": {"Enabled": True, "Quantity": 1, "Items": ["group-1"]}}, "the key-group group-1"),
        ({"CachePolicyId": "mine", "ForwardedValues": None, "MinTTL": None, "DefaultTTL": None, "MaxTTL": None},
         "the cache-policy mine"),
    ])
    def test_a_resource_named_but_not_in_the_file_is_refused(self, tmp_path: Path, behaviour: dict[str, Any],
                                                              named: str) -> None:
        config = write(tmp_path / "distributions.json", exported(
            "www.example.com", [http_origin("http://127.0.0.1:9")], {**legacy("web"), **behaviour}))
        assert refused(config) == (f"strato: --config {config}: distribution ref-www.example.com: {named} "
                                   "is not in the file")

    def test_a_key_group_needs_its_public_keys(self, tmp_path: Path) -> None:
        config = write(tmp_path / "distributions.json", [
            {"KeyGroup": {"Id": "group-1", "KeyGroupConfig": {"Name": "signers", "Items": ["K1"]}}}])
        assert refused(config) == f"strato: --config {config}: key group group-1: its public key K1 is not in the file"

    def test_a_bucket_needs_a_strato_server(self, tmp_path: Path) -> None:
        bucket = {"Id": "photos", "DomainName": "photos.s3.amazonaws.com",
                  "S3OriginConfig": {"OriginAccessIdentity": ""}}
        config = write(tmp_path / "distributions.json", exported("www.example.com", [bucket], legacy("photos")))
        assert refused(config).endswith("origin photos is the bucket photos: give --origin, the URL of the strato "
                                        "server that holds it")

    def test_an_origin_access_control_of_another_origin_type_is_refused(self, tmp_path: Path) -> None:
        """As CreateDistribution refuses it: IllegalOriginAccessConfiguration."""
        config = write(tmp_path / "distributions.json", [
            exported("www.example.com", [{**http_origin("http://127.0.0.1:9"), "OriginAccessControlId": "E3OAC"}],
                     legacy("web")),
            {"OriginAccessControl": {"Id": "E3OAC", "OriginAccessControlConfig": {
                "Name": "buckets", "SigningProtocol": "sigv4", "SigningBehavior": "always",
                "OriginAccessControlOriginType": "s3"}}}])
        assert refused(config, env=KEYS).endswith(
            "The origin type and OAC origin type differ: origin web, origin access control E3OAC of type s3.")

    def test_json_that_is_not_json_says_where(self, tmp_path: Path) -> None:
        config = tmp_path / "distributions.json"
        config.write_text('{"Distributions": [}')
        assert refused(config).startswith(f"strato: --config {config}: not JSON: Expecting value: line 1")

    def test_json_nested_too_deep_is_refused_in_one_line(self, tmp_path: Path) -> None:
        """Deeper than the JSON parser's, or the reading of a configuration's, recursion can go."""
        config = tmp_path / "distributions.json"
        config.write_text("[" * 100_000)
        assert refused(config).startswith(f"strato: --config {config}: not JSON: ")
        deep: dict[str, Any] = {}
        for _ in range(600):
            deep = {"Comment": deep}
        write(config, exported("www.example.com", [http_origin("http://10.0.0.7:80")], legacy("web"), Deep=deep))
        assert refused(config) == (f"strato: --config {config}: the document: nested deeper than any CloudFront "
                                   "configuration")

    def test_an_edge_needs_an_origin_or_a_file(self, tmp_path: Path) -> None:
        done = subprocess.run([sys.executable, "-m", "strato", "edge"], capture_output=True, text=True, timeout=60)
        assert done.stderr == "strato: edge needs --origin URL or --config FILE\n"


class TestReloading:
    def served(self, edge: StratoEdge, host: str, path: str, body: bytes) -> bool:
        deadline = time.monotonic() + 10
        while page(edge, host, path)[2] != body and time.monotonic() < deadline:
            time.sleep(0.1)
        return page(edge, host, path)[2] == body

    def test_a_changed_file_is_served_with_the_cache_kept(
            self, origin: Origin, other: Origin, tmp_path: Path, started: list[StratoEdge]) -> None:
        origin.routes["/cached"] = Route(200, {"Cache-Control": "max-age=3600"}, b"cached")
        other.routes["/new/page"] = Route(200, {"Cache-Control": "no-store"}, b"new behaviour")
        document = exported("www.example.com", [http_origin(origin.url), http_origin(other.url, "new")],
                            legacy("web"))
        edge = edge_for(started, tmp_path, document)
        assert page(edge, "www.example.com", "/cached")[2] == b"cached"
        document["DistributionConfig"]["CacheBehaviors"] = {"Quantity": 1, "Items": [legacy("new", "/new/*")]}
        write(tmp_path / "distributions.json", document)
        assert self.served(edge, "www.example.com", "/new/page", b"new behaviour")
        assert page(edge, "www.example.com", "/cached")[2] == b"cached"
        assert [seen.path for seen in origin.seen].count("/cached") == 1, "still cached"

    def test_a_host_dropped_from_the_file_is_refused_even_what_was_cached_for_it(
            self, origin: Origin, tmp_path: Path, started: list[StratoEdge]) -> None:
        origin.routes["/cached"] = Route(200, {"Cache-Control": "max-age=3600"}, b"cached")
        document = exported("old.example.com", [http_origin(origin.url)], legacy("web"))
        edge = edge_for(started, tmp_path, document)
        assert page(edge, "old.example.com", "/cached")[2] == b"cached"
        document["DistributionConfig"]["Aliases"]["Items"] = ["new.example.com"]
        write(tmp_path / "distributions.json", document)
        assert self.served(edge, "new.example.com", "/cached", b"cached")
        assert page(edge, "old.example.com", "/cached")[0] == 403

    def test_sighup_reads_the_file_again(self, origin: Origin, tmp_path: Path, started: list[StratoEdge]) -> None:
        """Even when it looks unchanged (same size, same time)."""
        origin.routes["/page"] = Route(200, {"Cache-Control": "no-store"}, b"page")
        edge = edge_for(started, tmp_path, exported("aaa.example.com", [http_origin(origin.url)], legacy("web")))
        config = tmp_path / "distributions.json"
        before = config.stat()
        with open(config, "r+") as text:
            replaced = text.read().replace("aaa.example.com", "bbb.example.com")
            text.seek(0)
            text.write(replaced)
        os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
        time.sleep(1.5)
        assert page(edge, "bbb.example.com", "/page")[0] == 403, "not read again on its own"
        assert edge.process is not None
        edge.process.send_signal(signal.SIGHUP)
        assert self.served(edge, "bbb.example.com", "/page", b"page")

    @pytest.mark.parametrize("text", ["{", "[" * 100_000])
    def test_a_file_that_no_longer_reads_leaves_the_distributions_as_they_were(
            self, origin: Origin, tmp_path: Path, started: list[StratoEdge], text: str) -> None:
        origin.routes["/page"] = Route(200, {"Cache-Control": "no-store"}, b"page")
        edge = edge_for(started, tmp_path, exported("www.example.com", [http_origin(origin.url)], legacy("web")))
        (tmp_path / "distributions.json").write_text(text)
        deadline = time.monotonic() + 10
        while "was not reloaded" not in "".join(edge.output) and time.monotonic() < deadline:
            assert page(edge, "www.example.com", "/page")[2] == b"page"
            time.sleep(0.1)
        assert "distributions stay as they were: not JSON" in "".join(edge.output)


def test_caching_disabled_is_a_managed_policy_needing_nothing_in_the_file(
        origin: Origin, tmp_path: Path, started: list[StratoEdge]) -> None:
    origin.routes["/page"] = Route(200, {"Cache-Control": "max-age=60"}, b"page")
    edge = edge_for(started, tmp_path, exported("www.example.com", [http_origin(origin.url)], {
        "TargetOriginId": "web", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": CACHING_DISABLED}))
    assert [page(edge, "www.example.com", "/page")[2] for _ in range(2)] == [b"page"] * 2
    assert len(origin.seen) == 2
