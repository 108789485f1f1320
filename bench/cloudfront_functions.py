"""CloudFront Functions: what one invocation costs the edge, in process, and what a behaviour
running one serves, through a real `strato serve` edge.

    python bench/cloudfront_functions.py            # 2,000 runs of each case, then the edge
    python bench/cloudfront_functions.py --runs 500 --no-edge

In process, cases: a fresh QuickJS runtime and nothing else (the floor every invocation pays, since no state
may pass from one to the next); a viewer-request SPA rewrite (the event made from a request with
ten fields, run, and its returned request read back); a viewer-response function adding a
header; a generated redirect. Prints the median and 99th percentile wall time per invocation in
microseconds. At the edge (one API worker; wrk, 2 threads, 32 connections, 5 s each): 1 KiB hits
of a behaviour without functions (the hit fast path), of one with a viewer-request SPA rewrite
(`/` -> `/index.html`, answered through ASGI), and generated redirects (no cache, no origin)."""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from servers import ACCESS_KEY, REGION, SECRET_KEY, start_strato
from strato.edge import functions_js
from strato.edge.function_events import (
    Answer,
    Context,
    ViewerRequest,
    request_event,
    request_result,
    response_event,
    response_result,
)

SPA = """function handler(event) {
  var request = event.request;
  if (request.uri.endsWith('/')) request.uri += 'index.html';
  else if (!request.uri.includes('.')) request.uri += '/index.html';
  return request;
}"""
SECURITY = """function handler(event) {
  var response = event.response;
  response.headers['strict-transport-security'] = {value: 'max-age=63072000; includeSubdomains; preload'};
  response.headers['x-content-type-options'] = {value: 'nosniff'};
  return response;
}"""
REDIRECT = """function handler(event) {
  return {statusCode: 302, statusDescription: 'Found', headers: {location: {value: 'https://example.com/'}}};
}"""
CONTEXT = Context("E2EXAMPLE00001", "e2example00001.cdn.strato.local", "x" * 56, "198.51.100.7")
REQUEST = ViewerRequest("GET", "/app/", "utm_source=mail&page=2", [
    ("host", "www.example.com"), ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"),
    ("accept", "text/html,application/xhtml+xml"), ("accept-language", "en-GB,en;q=0.9"),
    ("accept-encoding", "gzip, br"), ("cookie", "session=0123456789abcdef; theme=dark"),
    ("referer", "https://www.example.com/"), ("sec-fetch-mode", "navigate"), ("dnt", "1"),
    ("upgrade-insecure-requests", "1")])
RESPONSE = Answer(200, [("content-type", "text/html"), ("content-length", "1024"), ("etag", '"abc"'),
                        ("cache-control", "max-age=600")])


def fresh_runtime() -> None:
    functions_js.compile_error("")  # a runtime made, nothing run


def spa() -> None:
    outcome = functions_js.run(SPA, request_event(CONTEXT, REQUEST))
    request_result(outcome.value, REQUEST)


def security() -> None:
    outcome = functions_js.run(SECURITY, response_event(CONTEXT, REQUEST, RESPONSE))
    response_result(outcome.value, RESPONSE)


def redirect() -> None:
    outcome = functions_js.run(REDIRECT, request_event(CONTEXT, REQUEST))
    request_result(outcome.value, REQUEST)


def timed(case: Callable[[], None], runs: int) -> list[float]:
    for _ in range(50):
        case()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        case()
        times.append((time.perf_counter() - started) * 1e6)
    return times


def in_process(runs: int) -> None:
    print(f"{'case':<28}{'median us':>12}{'p99 us':>10}")
    for name, case in (("fresh runtime only", fresh_runtime), ("viewer-request SPA rewrite", spa),
                       ("viewer-response headers", security), ("generated redirect", redirect)):
        times = sorted(timed(case, runs))
        print(f"{name:<28}{statistics.median(times):>12.0f}{times[int(len(times) * 0.99)]:>10.0f}")


def status_of(url: str, host: str) -> int:
    """The status the edge answers (a redirect is not followed)."""
    netloc, _, path = url.removeprefix("http://").partition("/")
    connection = http.client.HTTPConnection(netloc, timeout=10)
    try:
        connection.request("GET", "/" + path, headers={"Host": host})
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def requests_per_second(url: str, host: str) -> float:
    wrk = shutil.which("wrk") or "/usr/bin/wrk"
    out = subprocess.run([wrk, "-t2", "-c32", "-d5s", "-H", f"Host: {host}", url], capture_output=True, text=True,
                         check=True).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise RuntimeError(out)
    return float(found.group(1))


def edge() -> None:
    server = start_strato(1, sys.executable, Path(__file__).resolve().parent.parent / "src", "-functions")
    try:
        found = re.search(r"CDN edge:\s+(http://\S+)", server.child.output())
        assert found, server.child.output()
        edge_url = found.group(1)
        import boto3

        cloudfront = boto3.client("cloudfront", endpoint_url=server.base_url, region_name=REGION,
                                  aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        bucket = f"fn-{uuid.uuid4().hex[:12]}"
        server.client.create_bucket(Bucket=bucket)
        server.client.put_object(Bucket=bucket, Key="index.html", Body=b"x" * 1024, ContentType="text/html",
                                 CacheControl="max-age=3600")
        server.client.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
        arns = {}
        for name, code in (("spa", SPA), ("redirect", REDIRECT)):
            created = cloudfront.create_function(Name=name, FunctionCode=code.encode(),
                                                 FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"})
            cloudfront.publish_function(Name=name, IfMatch=created["ETag"])
            arns[name] = created["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
        hosts = {"plain": None, "spa": arns["spa"], "redirect": arns["redirect"]}
        for host, arn in hosts.items():
            behavior: dict[str, Any] = {
                "TargetOriginId": "bucket", "ViewerProtocolPolicy": "allow-all",
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}}
            if arn is not None:
                behavior["FunctionAssociations"] = {"Quantity": 1, "Items": [
                    {"EventType": "viewer-request", "FunctionARN": arn}]}
            cloudfront.create_distribution(DistributionConfig={
                "CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True,
                "Aliases": {"Quantity": 1, "Items": [f"{host}.example.com"]},
                "Origins": {"Quantity": 1, "Items": [{"Id": "bucket", "DomainName": f"{bucket}.s3.localhost",
                                                      "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
                "DefaultCacheBehavior": behavior})
        cases = (("1 KiB hits, no function", "plain", "/index.html", 200),
                 ("1 KiB hits, SPA rewrite", "spa", "/", 200),
                 ("generated redirects", "redirect", "/", 302))
        deadline = time.monotonic() + 15
        while any(status_of(edge_url + path, f"{host}.example.com") != status for _, host, path, status in cases):
            if time.monotonic() > deadline:
                raise RuntimeError("the edge did not load the distributions")
            time.sleep(0.2)
        print(f"\n{'at the edge':<28}{'req/s':>12}")
        for name, host, path, _ in cases:
            print(f"{name:<28}{requests_per_second(edge_url + path, f'{host}.example.com'):>12.0f}")
    finally:
        server.child.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--no-edge", action="store_true", help="only the in-process measurement")
    options = parser.parse_args()
    in_process(options.runs)
    if not options.no_edge:
        edge()


if __name__ == "__main__":
    main()
