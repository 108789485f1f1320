"""Fresh hits answered inside the HTTP parser's callback: one buffer (head and body) per
response, written straight to the transport, with no ASGI task, messages or second write.

Only a request that can be answered completely and at once takes this path: a GET or HEAD
of a fresh stored entry whose body is in memory (or in a slab the page cache holds), or whose
requested ranges the page cache holds. A request that finds nothing stored becomes a Miss
(edge/misspath.py). Everything else (stale or revalidated entries, compression, limits
reached, admin paths, malformed targets, behaviours asking for signed URLs or running CloudFront
functions) gets None here and goes through the ASGI app (EdgeProxy), which answers it as before.
A hit answered here is built by the functions EdgeProxy uses (policy,
EdgeProxy.response_headers, delivery.plan_answer), and counted and logged as it is.
"""

from __future__ import annotations

import math
import time
from urllib.parse import unquote_to_bytes

from strato.edge import cachekey, heads, policy
from strato.edge.compression import COMPRESSED_STATUSES
from strato.edge.delivery import Answer, plan_answer, with_policy_fields
from strato.edge.entry import Entry
from strato.edge.metrics import logged_target
from strato.edge.misspath import Miss, MissPath, refusal
from strato.edge.prepared import Prepared
from strato.edge.proxy import MAX_TARGET, EdgeProxy
from strato.edge.response_fields import Fields
from strato.edge.rules import ALLOW_ALL, edge_target, forwarded_headers, key_target
from strato.edge.store import MEMORY_OBJECT_MAX
from strato.http.request import MalformedRequest, parse_query

# Request fields that can change a stored 200's answer beyond its Age and Date.
_SHAPING = frozenset({"if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "range"})
_SHAPING_COMPRESSIBLE = _SHAPING | {"accept-encoding"}


class HitPath:
    def __init__(self, proxy: EdgeProxy) -> None:
        self.proxy = proxy
        self.misses = MissPath(proxy)

    def answer(
        self, method: str, raw_path: bytes, raw_query: bytes, headers: dict[str, str], client: str,
    ) -> list[bytes] | Miss | None:
        """The whole response to a GET or HEAD (buffers for one writev), a Miss to fetch, or
        None to let the ASGI app answer it."""
        started = time.perf_counter()
        proxy = self.proxy
        path = raw_path.decode("latin-1")
        target = path + "?" + raw_query.decode("latin-1") if raw_query else path
        if len(target) > MAX_TARGET or not _well_formed(raw_path, raw_query):
            return None
        if proxy.connections.count(client) >= proxy.connections.max_per_client:
            return None
        host = headers.get("host")
        if host is None:  # refused by the ASGI app (RFC 9112 3.2)
            return None
        rules = proxy.rules_for(host, path)
        if (rules.signatures is not None or not rules.cache or rules.viewer_protocol != ALLOW_ALL
                or rules.computes_fields or rules.functions is not None):
            return None  # signatures, the viewer's protocol and connection, functions are the ASGI app's
        target = edge_target(rules, target)
        forwarded = forwarded_headers(rules, headers, method)
        key = cachekey.primary_key(method, host, key_target(rules, target))
        entry = proxy.store.lookup(key, forwarded)
        if entry is None:
            fwd = policy.forward_reason(None, time.time(), varied=proxy.store.has_variants(key))
            return self.misses.begin(Miss(method, logged_target(raw_path, raw_query), headers, forwarded, key, host,
                                          target, rules, client, started, fwd))
        if rules.error_page(entry.status) is not None:  # error pages: the ASGI app
            return None
        facts = entry.facts()
        now = time.time()
        if rules.due(entry.response_time, now):
            return None
        age = facts.age(now)
        if "cache-control" in headers or "pragma" in headers:
            if policy.decide(forwarded, entry.stored(), now) is not policy.Action.FRESH:
                return None
        elif not facts.fresh(age):
            return None
        added = rules.response.chosen(headers, method)
        self._refresh(entry, facts, now, age, added, rules.compress)
        if not facts.head:
            return None
        compressing = facts.compressible and bool(rules.compress) and entry.status in COMPRESSED_STATUSES
        shaping = _SHAPING_COMPRESSIBLE if compressing else _SHAPING
        if (entry.status != 200 and not compressing) or shaping.isdisjoint(headers):
            body = proxy.store.body_now(entry)
            if body is None:
                return None
            wire: list[bytes] | None = [facts.head] if method == "HEAD" else [facts.head, body]
            status, sent = entry.status, 0 if method == "HEAD" else entry.size
        else:
            answer = with_policy_fields(
                plan_answer(headers, method, entry.status, dict(facts.fields), entry.size, rules.compress), added)
            sent = heads.body_length(answer, entry.size)
            wire = None if answer.encoding is not None else self._wire(entry, facts, answer, method, sent)
            status = answer.status
        if wire is None:
            return None
        raw_target = logged_target(raw_path, raw_query)
        limited = refusal(proxy, rules, client, method, raw_target, started, headers)
        if limited is not None:
            return limited
        site = proxy.metrics.site(rules.site)
        proxy.store.hit(entry)
        site.hits += 1
        proxy.observe(site, client, method, raw_target, status, sent, started)
        return wire

    def _refresh(
        self, entry: Entry, facts: Prepared, now: float, age: float, added: Fields, compress: tuple[str, ...],
    ) -> None:
        """The entry's answer fields and unshaped head, rebuilt when Age, TTL, Date, the response
        headers policy's fields or the codings the behaviour compresses with (its Vary) change."""
        key = (math.floor(age), math.floor(facts.lifetime - age), 0 if facts.dated else math.floor(now), added,
               compress)
        if facts.head_key == key:
            return
        status_text = policy.cache_status(True, ttl=facts.lifetime - age, name=self.proxy.name)
        facts.fields = self.proxy.response_headers(entry.headers, policy.age_text(age), status_text, now, added)
        lines = {name: heads.field_line(name, value) for name, value in facts.fields.items()}
        facts.lines = {name: line for name, line in lines.items() if line is not None}
        plain = plan_answer({}, "GET", entry.status, dict(facts.fields), entry.size, compress)
        valid = len(facts.lines) == len(lines)
        facts.head = (heads.head(plain, facts.fields, facts.lines) or b"") if valid else b""
        facts.head_key = key

    def _wire(self, entry: Entry, facts: Prepared, answer: Answer, method: str, length: int) -> list[bytes] | None:
        head = heads.head(answer, facts.fields, facts.lines)
        if head is None:
            return None
        if answer.body is None or method == "HEAD":
            return [head]
        if length > MEMORY_OBJECT_MAX:
            return None
        pieces = [head]
        memory = self.proxy.store.body_now(entry)
        for part in answer.body:
            if isinstance(part, bytes):
                pieces.append(part)
                continue
            start, end = part[0], entry.size if part[1] is None else part[1]
            chunk = memory[start:end] if memory is not None else self.proxy.store.read_now(entry, start, end)
            if chunk is None:
                return None
            pieces.append(chunk)
        return pieces


def _well_formed(raw_path: bytes, raw_query: bytes) -> bool:
    """What Request.from_scope accepts (UTF-8 once percent-decoded), and not an admin path."""
    try:
        path = unquote_to_bytes(raw_path).decode("utf-8") if b"%" in raw_path or not raw_path.isascii() else ""
        if raw_query:
            parse_query(raw_query)
    except (UnicodeDecodeError, MalformedRequest):
        return False
    return not (path or raw_path.decode("latin-1")).startswith("/_strato/")
