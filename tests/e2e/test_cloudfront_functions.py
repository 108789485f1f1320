"""CloudFront Functions through boto3 against a real strato server: the functions' own operations
and errors, TestFunction, the rules for associating them with cache behaviours, and the edge
running them on real requests (rewrites cached under the rewritten URI, headers for the origin,
generated redirects, viewer-response headers on hits and misses, failures, no shared state)."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.client_errors import error_of
from tests.e2e.test_serve_edge import behavior, create_distribution, http_origin, kept_alive_get
from tests.e2e.web import get
from tests.edge.origin import Origin, Route
from tests.servers import StratoServer

SPA = b"""
function handler(event) {
  var request = event.request;
  if (request.uri.endsWith('/')) request.uri += 'index.html';
  request.headers['x-from-function'] = {value: 'rewritten ' + event.context.eventType};
  return request;
}
"""
SECURITY = b"""
function handler(event) {
  var response = event.response;
  response.headers['strict-transport-security'] = {value: 'max-age=63072000'};
  response.headers['x-seen-status'] = {value: String(response.statusCode)};
  return response;
}
"""
REDIRECT = b"""
function handler(event) {
  return {statusCode: 302, statusDescription: 'Found',
          headers: {location: {value: 'https://example.com/new' + event.request.uri.substring(4)},
                    'x-cache': {value: 'Hit from cloudfront'}}};
}
"""
LOOP = b"function handler(event) { while (true) {} }"
THROWS = b"function handler(event) { throw new Error('no such luck'); }"
EURO = b"function handler(event) { event.request.headers['x-price'] = {value: '\\u20ac 5'}; return event.request; }"
SMUGGLE = b"""
function handler(event) {
  var request = event.request;
  request.headers['x-lang'] = {value: decodeURIComponent(request.querystring.lang.value)};
  return request;
}
"""
SPLIT = b"function handler(event) { return {statusCode: 200, headers: {'x-note': {value: 'a\\r\\nx-evil: 1'}}}; }"
BAD_NAME = b"function handler(event) { return {statusCode: 200, headers: {'x note:': {value: 'a'}}}; }"
# Half of a surrogate pair, as cutting a string at a fixed length can leave it: no UTF-8 has it.
HALF_PAIR = b"function handler(event) { event.request.uri = '/caf\\ud83d'; return event.request; }"
COUNTER = b"""
var loaded = (typeof loaded === 'number') ? loaded + 1 : 1;
async function handler(event) {
  globalThis.calls = (globalThis.calls || 0) + 1;
  return {statusCode: 200, headers: {'content-type': {value: 'text/plain'}},
          body: {encoding: 'text', data: loaded + ' ' + globalThis.calls}};
}
"""


def new_function(cloudfront: Any, code: bytes, *, runtime: str = "cloudfront-js-2.0", publish: bool = True,
                 name: str | None = None) -> tuple[str, str]:
    """A new function (published unless asked not to): its name and ARN."""
    name = name or f"f-{uuid.uuid4().hex[:16]}"
    created = cloudfront.create_function(Name=name, FunctionConfig={"Comment": "a test", "Runtime": runtime},
                                         FunctionCode=code)
    if publish:
        cloudfront.publish_function(Name=name, IfMatch=created["ETag"])
    return name, created["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]


def associations(**by_event: str) -> dict[str, Any]:
    items = [{"EventType": event.replace("_", "-"), "FunctionARN": arn} for event, arn in by_event.items()]
    return {"FunctionAssociations": {"Quantity": len(items), "Items": items}}


# -- the functions' own operations ---------------------------------------------------------

def test_a_function_is_created_described_read_and_listed(cloudfront: Any) -> None:
    name = f"rewrite-{uuid.uuid4().hex[:12]}"
    created = cloudfront.create_function(Name=name, FunctionConfig={"Comment": "SPA", "Runtime": "cloudfront-js-2.0"},
                                         FunctionCode=SPA)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    summary = created["FunctionSummary"]
    assert summary["Name"] == name
    assert summary["Status"] == "UNPUBLISHED"
    assert summary["FunctionConfig"] == {"Comment": "SPA", "Runtime": "cloudfront-js-2.0"}
    metadata = summary["FunctionMetadata"]
    assert metadata["FunctionARN"] == f"arn:aws:cloudfront::000000000000:function/{name}"
    assert metadata["Stage"] == "DEVELOPMENT"
    assert created["Location"].endswith(f"/2020-05-31/function/{metadata['FunctionARN']}")
    described = cloudfront.describe_function(Name=name)
    assert described["ETag"] == created["ETag"]
    assert described["FunctionSummary"] == summary
    code = cloudfront.get_function(Name=name)
    assert code["FunctionCode"].read() == SPA
    assert code["ETag"] == created["ETag"]
    assert code["ContentType"] == "application/octet-stream"
    listed = cloudfront.list_functions(Stage="DEVELOPMENT")["FunctionList"]
    assert name in [item["Name"] for item in listed["Items"]]
    with pytest.raises(ClientError) as unpublished:
        cloudfront.describe_function(Name=name, Stage="LIVE")
    assert error_of(unpublished) == ("NoSuchFunctionExists", 404)


def test_publishing_copies_development_to_live_and_updates_stay_in_development(cloudfront: Any) -> None:
    name, _ = new_function(cloudfront, SPA, publish=False)
    etag = cloudfront.describe_function(Name=name)["ETag"]
    published = cloudfront.publish_function(Name=name, IfMatch=etag)["FunctionSummary"]
    assert published["FunctionMetadata"]["Stage"] == "LIVE"
    assert published["Status"] == "DEPLOYED"
    assert cloudfront.describe_function(Name=name)["FunctionSummary"]["Status"] == "DEPLOYED"
    updated = cloudfront.update_function(Name=name, IfMatch=etag, FunctionCode=REDIRECT,
                                         FunctionConfig={"Comment": "now a redirect", "Runtime": "cloudfront-js-1.0"})
    assert updated["ETag"] != etag
    assert updated["FunctionSummary"]["Status"] == "UNPUBLISHED"
    assert updated["FunctionSummary"]["FunctionConfig"]["Runtime"] == "cloudfront-js-1.0"
    assert cloudfront.get_function(Name=name)["FunctionCode"].read() == REDIRECT
    assert cloudfront.get_function(Name=name, Stage="LIVE")["FunctionCode"].read() == SPA
    live = {item["Name"] for item in cloudfront.list_functions(Stage="LIVE")["FunctionList"].get("Items", [])}
    assert name in live


def test_changes_need_the_current_etag(cloudfront: Any) -> None:
    name, _ = new_function(cloudfront, SPA, publish=False)
    config = {"Comment": "", "Runtime": "cloudfront-js-2.0"}
    with pytest.raises(ClientError) as stale:
        cloudfront.update_function(Name=name, IfMatch="E2STALE0000000", FunctionCode=SPA, FunctionConfig=config)
    assert error_of(stale) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as missing:
        cloudfront.publish_function(Name=name, IfMatch="")
    assert error_of(missing) == ("InvalidIfMatchVersion", 400)
    with pytest.raises(ClientError) as deleted_stale:
        cloudfront.delete_function(Name=name, IfMatch="E2STALE0000000")
    assert error_of(deleted_stale) == ("PreconditionFailed", 412)
    cloudfront.delete_function(Name=name, IfMatch=cloudfront.describe_function(Name=name)["ETag"])
    with pytest.raises(ClientError) as gone:
        cloudfront.get_function(Name=name)
    assert error_of(gone) == ("NoSuchFunctionExists", 404)


def test_names_sizes_runtimes_and_code_are_checked(cloudfront: Any) -> None:
    name, _ = new_function(cloudfront, SPA, publish=False)
    config = {"Comment": "", "Runtime": "cloudfront-js-2.0"}
    refusals = {
        "FunctionAlreadyExists": dict(Name=name, FunctionConfig=config, FunctionCode=SPA),
        "FunctionSizeLimitExceeded": dict(Name=f"big-{uuid.uuid4().hex[:8]}", FunctionConfig=config,
                                          FunctionCode=b"function handler(e) { return e; }\n" + b"//" * 6000),
        "InvalidArgument": dict(Name=f"broken-{uuid.uuid4().hex[:8]}", FunctionConfig=config,
                                FunctionCode=b"function handler(event { return event; }"),
    }
    statuses = {"FunctionAlreadyExists": 409, "FunctionSizeLimitExceeded": 413, "InvalidArgument": 400}
    for code, arguments in refusals.items():
        with pytest.raises(ClientError) as refused:
            cloudfront.create_function(**arguments)
        assert error_of(refused) == (code, statuses[code])
    with pytest.raises(ClientError) as runtime:
        cloudfront.create_function(Name=f"old-{uuid.uuid4().hex[:8]}", FunctionCode=SPA,
                                   FunctionConfig={"Comment": "", "Runtime": "nodejs-18"})
    assert error_of(runtime) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as broken_update:
        cloudfront.update_function(Name=name, IfMatch=cloudfront.describe_function(Name=name)["ETag"],
                                   FunctionConfig=config, FunctionCode=b"function handler(event) {")
    assert error_of(broken_update) == ("InvalidArgument", 400)
    assert "SyntaxError" in broken_update.value.response["Error"]["Message"]


def test_listing_pages_with_a_marker(cloudfront: Any) -> None:
    names = {new_function(cloudfront, SPA, publish=False)[0] for _ in range(3)}
    seen: list[str] = []
    marker = ""
    while True:
        page = cloudfront.list_functions(Marker=marker, MaxItems="2", Stage="DEVELOPMENT")["FunctionList"]
        assert page["Quantity"] <= 2
        seen += [item["Name"] for item in page.get("Items", [])]
        if "NextMarker" not in page:
            break
        marker = page["NextMarker"]
    assert names <= set(seen)
    assert len(seen) == len(set(seen))


def test_test_function_runs_the_stage_on_the_event_object(cloudfront: Any) -> None:
    name, _ = new_function(cloudfront, b"""
function handler(event) {
  console.log('asked for', event.request.uri);
  var request = event.request;
  request.uri = request.uri + 'index.html';
  return request;
}""", publish=False)
    etag = cloudfront.describe_function(Name=name)["ETag"]
    event = {"version": "1.0", "context": {"eventType": "viewer-request"}, "viewer": {"ip": "198.51.100.7"},
             "request": {"method": "GET", "uri": "/docs/", "querystring": {}, "headers": {}, "cookies": {}}}
    result = cloudfront.test_function(Name=name, IfMatch=etag, EventObject=json.dumps(event).encode())["TestResult"]
    assert json.loads(result["FunctionOutput"])["request"]["uri"] == "/docs/index.html"
    assert result["FunctionExecutionLogs"] == ["asked for /docs/"]
    assert 0 <= int(result["ComputeUtilization"]) <= 100
    assert result["FunctionSummary"]["Name"] == name
    assert not result.get("FunctionErrorMessage")
    with pytest.raises(ClientError) as stale:
        cloudfront.test_function(Name=name, IfMatch="E2STALE0000000", EventObject=json.dumps(event).encode())
    assert error_of(stale) == ("PreconditionFailed", 412)


def test_test_function_reports_the_error_a_function_throws(cloudfront: Any) -> None:
    name, _ = new_function(cloudfront, THROWS, publish=False)
    etag = cloudfront.describe_function(Name=name)["ETag"]
    event = {"version": "1.0", "context": {"eventType": "viewer-request"}, "viewer": {"ip": "198.51.100.7"},
             "request": {"method": "GET", "uri": "/", "querystring": {}, "headers": {}, "cookies": {}}}
    result = cloudfront.test_function(Name=name, IfMatch=etag, EventObject=json.dumps(event).encode())["TestResult"]
    assert result["FunctionErrorMessage"] == "Error: no such luck"
    assert not result.get("FunctionOutput")



def test_test_function_refuses_an_event_object_nested_too_deeply(cloudfront: Any) -> None:
    name, _ = new_function(cloudfront, SPA, publish=False)
    etag = cloudfront.describe_function(Name=name)["ETag"]
    with pytest.raises(ClientError) as refused:
        cloudfront.test_function(Name=name, IfMatch=etag, EventObject=b'{"a":' + b"[" * 50000 + b"]" * 50000 + b"}")
    assert error_of(refused) == ("InvalidArgument", 400)



def test_test_function_reports_text_with_half_a_surrogate_pair(cloudfront: Any) -> None:
    name, _ = new_function(cloudfront, b"""
function handler(event) { console.log('logged \\ud83d'); throw new Error('thrown \\ud83d'); }""", publish=False)
    etag = cloudfront.describe_function(Name=name)["ETag"]
    result = cloudfront.test_function(Name=name, IfMatch=etag, EventObject=b"{}")["TestResult"]
    assert result["FunctionExecutionLogs"] == ["logged \ufffd"]
    assert result["FunctionErrorMessage"] == "Error: thrown \ufffd"


# -- associating functions with behaviours -------------------------------------------------

def test_a_behaviour_associates_only_published_functions_one_per_viewer_event(cloudfront: Any) -> None:
    origin = http_origin("http://127.0.0.1:9")
    _, unpublished = new_function(cloudfront, SPA, publish=False)
    _, published = new_function(cloudfront, SPA)
    _, other = new_function(cloudfront, SECURITY)
    refused = {
        "unpublished": {**behavior("web"), **associations(viewer_request=unpublished)},
        "origin event": {**behavior("web"), **associations(origin_request=published)},
        "no such ARN": {**behavior("web"), **associations(viewer_request=published + "-gone")},
        "twice": {**behavior("web"), "FunctionAssociations": {"Quantity": 2, "Items": [
            {"EventType": "viewer-request", "FunctionARN": published},
            {"EventType": "viewer-request", "FunctionARN": other}]}},
    }
    for case, default in refused.items():
        with pytest.raises(ClientError) as refusal:
            cloudfront.create_distribution(DistributionConfig={
                "CallerReference": uuid.uuid4().hex, "Comment": case, "Enabled": True,
                "Origins": {"Quantity": 1, "Items": [origin]}, "DefaultCacheBehavior": default})
        assert error_of(refusal) == ("InvalidFunctionAssociation", 400), case


def test_a_function_in_use_cannot_be_deleted_until_no_behaviour_associates_it(cloudfront: Any) -> None:
    name, arn = new_function(cloudfront, SPA)
    created = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [http_origin("http://127.0.0.1:9")]},
        "DefaultCacheBehavior": {**behavior("web"), **associations(viewer_request=arn)}})
    distribution_id = created["Distribution"]["Id"]
    config = cloudfront.get_distribution_config(Id=distribution_id)
    assert config["DistributionConfig"]["DefaultCacheBehavior"]["FunctionAssociations"] == {
        "Quantity": 1, "Items": [{"FunctionARN": arn, "EventType": "viewer-request"}]}
    etag = cloudfront.describe_function(Name=name)["ETag"]
    with pytest.raises(ClientError) as in_use:
        cloudfront.delete_function(Name=name, IfMatch=etag)
    assert error_of(in_use) == ("FunctionInUse", 409)
    without = config["DistributionConfig"]
    without["DefaultCacheBehavior"]["FunctionAssociations"] = {"Quantity": 0}
    cloudfront.update_distribution(Id=distribution_id, IfMatch=config["ETag"], DistributionConfig=without)
    cloudfront.delete_function(Name=name, IfMatch=etag)


# -- the edge running them -----------------------------------------------------------------

@dataclass
class Site:
    alias: str
    origin: Origin


@pytest.fixture(scope="module")
def site(server: StratoServer, cloudfront: Any) -> Iterator[Site]:
    """A distribution whose default behaviour rewrites SPA paths and adds a security header,
    with behaviours generating redirects, looping, throwing and counting."""
    origin = Origin()
    for path, body in (("/index.html", b"the app"), ("/app/index.html", b"the nested app"),
                       ("/styles.css", b"body {}")):
        origin.routes[path] = Route(200, {"content-type": "text/html", "cache-control": "max-age=600"}, body)
    spa, security = new_function(cloudfront, SPA)[1], new_function(cloudfront, SECURITY)[1]
    paths = {"/old/*": REDIRECT, "/loop*": LOOP, "/throw*": THROWS, "/count*": COUNTER, "/euro*": EURO,
             "/smuggle*": SMUGGLE, "/split*": SPLIT, "/badname*": BAD_NAME,
             "/halfpair*": HALF_PAIR}
    behaviors = [{**behavior("web", PathPattern=pattern),
                  **associations(viewer_request=new_function(cloudfront, code)[1])} for pattern, code in paths.items()]
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    create_distribution(cloudfront, alias, [http_origin(origin.url)], "web", behaviors, DefaultCacheBehavior={
        **behavior("web"), **associations(viewer_request=spa, viewer_response=security)})
    deadline = time.monotonic() + 10
    while get(f"{server.edge_url}/count", host=alias)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    yield Site(alias, origin)
    origin.close()


def seen_paths(origin: Origin) -> list[str]:
    return [request.path for request in origin.seen]


def test_a_rewritten_uri_is_what_the_origin_and_the_cache_key_see(server: StratoServer, site: Site) -> None:
    status, _headers, body = get(f"{server.edge_url}/app/", host=site.alias)
    assert (status, body) == (200, b"the nested app")
    assert seen_paths(site.origin).count("/app/index.html") == 1
    again = get(f"{server.edge_url}/app/", host=site.alias)
    assert again[2] == b"the nested app"
    assert "hit" in again[1]["cache-status"]
    direct = get(f"{server.edge_url}/app/index.html", host=site.alias)
    assert direct[2] == b"the nested app"
    assert "hit" in direct[1]["cache-status"]
    assert seen_paths(site.origin).count("/app/index.html") == 1
    assert "/app/" not in seen_paths(site.origin)


def test_a_header_the_function_adds_reaches_the_origin(server: StratoServer, site: Site) -> None:
    get(f"{server.edge_url}/styles.css?v=headers", host=site.alias)
    request = next(seen for seen in site.origin.seen if seen.path == "/styles.css?v=headers")
    assert request.headers["x-from-function"] == "rewritten viewer-request"


def test_a_generated_redirect_never_reaches_the_origin(server: StratoServer, site: Site) -> None:
    status, headers, _ = kept_alive_get(server, "/old/page.html", site.alias)
    assert status == 302
    assert headers["location"] == "https://example.com/new/page.html"
    assert not [path for path in seen_paths(site.origin) if path.startswith("/old")]
    assert "cache-status" not in headers  # answered at once, never cached
    assert headers["x-cache"] == "FunctionGeneratedResponse from cloudfront"  # as CloudFront marks it, not the function
    assert headers["via"] == "1.1 strato"


def test_a_viewer_response_function_sets_headers_on_misses_and_hits(server: StratoServer, site: Site) -> None:
    miss = get(f"{server.edge_url}/?v=response", host=site.alias)
    hit = get(f"{server.edge_url}/?v=response", host=site.alias)
    assert "hit" not in miss[1]["cache-status"]
    assert "hit" in hit[1]["cache-status"]
    for status, headers, body in (miss, hit):
        assert (status, body) == (200, b"the app")
        assert headers["strict-transport-security"] == "max-age=63072000"
        assert headers["x-seen-status"] == "200"


def test_a_function_that_loops_throws_or_returns_what_cannot_be_sent_gets_a_503(
    server: StratoServer, site: Site,
) -> None:
    looped = get(f"{server.edge_url}/loop", host=site.alias)
    assert looped[0] == 503
    assert looped[1]["x-cache"] == "FunctionThrottledError from cloudfront"
    thrown = get(f"{server.edge_url}/throw", host=site.alias)
    assert thrown[0] == 503
    assert thrown[1]["x-cache"] == "FunctionExecutionError from cloudfront"
    unsendable = get(f"{server.edge_url}/euro", host=site.alias)  # a field value HTTP/1.1 cannot carry
    assert unsendable[0] == 503
    assert unsendable[1]["x-cache"] == "FunctionExecutionError from cloudfront"
    assert not [path for path in seen_paths(site.origin) if path.startswith(("/loop", "/throw", "/euro"))]


def test_no_state_passes_from_one_invocation_to_the_next(server: StratoServer, site: Site) -> None:
    answers = {get(f"{server.edge_url}/count", host=site.alias)[2] for _ in range(3)}
    assert answers == {b"1 1"}


def test_fields_a_function_returns_that_http_cannot_carry_get_a_503_and_reach_no_one(
    server: StratoServer, site: Site,
) -> None:
    """A field value with CR or LF (here decoded from the viewer's query string) would split the
    origin's request or the viewer's response into fields or messages of the viewer's choosing."""
    for target in ("/smuggle?lang=en%0d%0ax-admin:%20yes", "/split", "/badname", "/halfpair"):
        status, headers, _ = get(f"{server.edge_url}{target}", host=site.alias)
        assert status == 503, target
        assert headers["x-cache"] == "FunctionExecutionError from cloudfront", target
        assert "x-evil" not in headers
    assert not [path for path in seen_paths(site.origin) if path.startswith("/smuggle")]


def test_no_viewer_response_function_runs_on_an_error_status(server: StratoServer, site: Site) -> None:
    """CloudFront invokes no viewer-response function when the origin's status is 400 or above
    (DeveloperGuide/edge-function-restrictions-all.html, HTTP status codes)."""
    status, headers, _ = get(f"{server.edge_url}/no-such-page.txt", host=site.alias)
    assert status == 404
    assert "x-seen-status" not in headers
    assert "strict-transport-security" not in headers


HOST = b"""
function handler(event) {
  var request = event.request;
  request.headers.host = {value: request.querystring.into.value};
  return request;
}
"""


def test_a_function_cannot_change_the_host_the_cache_key_holds(server: StratoServer, cloudfront: Any) -> None:
    """Host is read-only to a viewer-request function (DeveloperGuide/edge-function-restrictions-
    all.html): one distribution's function cannot store its origin's answers under another's name."""
    victim_origin, attacker_origin = Origin(), Origin()
    for origin, name in ((victim_origin, b"victim"), (attacker_origin, b"attacker")):
        origin.routes["/page"] = Route(200, {"cache-control": "max-age=600"}, b"the %s's page" % name)
        origin.routes["/ready"] = Route(200, {"cache-control": "no-store"}, name)
    victim, attacker = f"{uuid.uuid4().hex[:12]}.example.com", f"{uuid.uuid4().hex[:12]}.example.com"
    create_distribution(cloudfront, victim, [http_origin(victim_origin.url)], "web")
    function = new_function(cloudfront, HOST)[1]
    create_distribution(cloudfront, attacker, [http_origin(attacker_origin.url)], "web", DefaultCacheBehavior={
        **behavior("web", ForwardedValues={"QueryString": False, "Cookies": {"Forward": "none"}}),
        **associations(viewer_request=function)})
    try:
        deadline = time.monotonic() + 10
        while ((get(f"{server.edge_url}/ready", host=victim)[2], get(f"{server.edge_url}/ready?into={attacker}",
                                                                      host=attacker)[2]) != (b"victim", b"attacker")
               and time.monotonic() < deadline):
            time.sleep(0.1)
        assert get(f"{server.edge_url}/page?into={victim}", host=attacker)[2] == b"the attacker's page"
        assert get(f"{server.edge_url}/page", host=victim)[2] == b"the victim's page"
    finally:
        victim_origin.close()
        attacker_origin.close()


NO_CONTENT = b"function handler(event) { var response = event.response; response.statusCode = 204; return response; }"
INFORMATIONAL = b"function handler(event) { return {statusCode: 101, body: 'switched'}; }"
GENERATED_NO_CONTENT = b"function handler(event) { return {statusCode: 204, body: 'ignored'}; }"


def two_gets(server: StratoServer, alias: str, first: str, second: str) -> bytes:
    """Two requests on one connection, the second sent at once behind the first (pipelined),
    and all the bytes the edge answers until it closes or goes quiet."""
    host, port = server.edge_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(f"GET {first} HTTP/1.1\r\nHost: {alias}\r\n\r\n"
                           f"GET {second} HTTP/1.1\r\nHost: {alias}\r\nConnection: close\r\n\r\n".encode())
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def test_a_status_that_carries_no_body_goes_without_one(server: StratoServer, cloudfront: Any) -> None:
    """A 204 (or 304) a function answers with carries no body, or the viewer would read the
    body's bytes as the next response; no function answers a 1xx status as final."""
    origin = Origin()
    origin.routes["/page"] = Route(200, {"cache-control": "max-age=600"}, b"a body of its own")
    origin.routes["/next"] = Route(200, {"cache-control": "no-store"}, b"the next answer")
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    paths = {"/generated*": GENERATED_NO_CONTENT, "/informational*": INFORMATIONAL}
    behaviors = [{**behavior("web", PathPattern=pattern),
                  **associations(viewer_request=new_function(cloudfront, code)[1])} for pattern, code in paths.items()]
    behaviors.append({**behavior("web", PathPattern="/next")})
    create_distribution(cloudfront, alias, [http_origin(origin.url)], "web", behaviors, DefaultCacheBehavior={
        **behavior("web"), **associations(viewer_response=new_function(cloudfront, NO_CONTENT)[1])})
    try:
        deadline = time.monotonic() + 10
        while get(f"{server.edge_url}/next", host=alias)[2] != b"the next answer" and time.monotonic() < deadline:
            time.sleep(0.1)
        for first in ("/page", "/generated"):
            answered = two_gets(server, alias, first, "/next")
            head, _, rest = answered.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 204 "), first
            assert rest.startswith(b"HTTP/1.1 200 "), first  # the next response, right after the 204's head
            assert rest.endswith(b"the next answer")
            assert b"a body of its own" not in rest
            assert b"ignored" not in rest
        status, headers, _ = get(f"{server.edge_url}/informational", host=alias)
        assert (status, headers["x-cache"]) == (503, "FunctionExecutionError from cloudfront")
    finally:
        origin.close()


LONGER = b"""function handler(event) {
  return {statusCode: 200, headers: {'content-length': {value: '100'}}, body: 'short'};
}"""
CHUNKED = b"""function handler(event) {
  return {statusCode: 200, headers: {'transfer-encoding': {value: 'chunked'}}, body: '0\\r\\n\\r\\nHTTP/1.1 200 OK'};
}"""


def test_a_generated_body_is_framed_by_the_edge_not_by_the_function(server: StratoServer, cloudfront: Any) -> None:
    """A Content-Length or Transfer-Encoding a function sets on its response does not frame the
    body the edge sends: the viewer reads that body whole and the next response after it."""
    origin = Origin()
    origin.routes["/next"] = Route(200, {"cache-control": "no-store"}, b"the next answer")
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    behaviors = [{**behavior("web", PathPattern=pattern),
                  **associations(viewer_request=new_function(cloudfront, code)[1])}
                 for pattern, code in (("/longer*", LONGER), ("/chunked*", CHUNKED))]
    create_distribution(cloudfront, alias, [http_origin(origin.url)], "web", behaviors)
    try:
        deadline = time.monotonic() + 10
        while get(f"{server.edge_url}/next", host=alias)[2] != b"the next answer" and time.monotonic() < deadline:
            time.sleep(0.1)
        for first, body in (("/longer", b"short"), ("/chunked", b"0\r\n\r\nHTTP/1.1 200 OK")):
            head, _, rest = two_gets(server, alias, first, "/next").partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 "), first
            assert b"transfer-encoding" not in head.lower(), first
            assert f"content-length: {len(body)}".encode() in head.lower(), first
            assert rest.startswith(body + b"HTTP/1.1 200 "), first
            assert rest.endswith(b"the next answer"), first
    finally:
        origin.close()
