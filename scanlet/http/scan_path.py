"""``GET /{slug}`` and ``GET /q/{slug}``: every scan request, whichever entrance it came by.

Two entrances reach this module: the raw ASGI front (``scanlet.http.fastpath``), which takes
live-code scans past Starlette for speed, and the Starlette routes at the end of the route
table, which take everything else (unknown slugs, traced requests). Both call
``ScanPath.answer``: one place reads the request's facts (``read_request``), one decides the
outcome and records the scan, so the two cannot drift apart.

The scan is recorded durably before the redirect is sent: the scans actor answers after its
group commit. ``HEAD`` answers the same way and records nothing (link checkers and chat
previews are not scans).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from html import escape
from ipaddress import ip_address

import msgspec
import structlog
from starlette.types import Scope

from scanlet.actors.codes.decide import FALLBACK_STATUS, TARGET, Choice, decide, location_of
from scanlet.actors.codes.domain_index import DomainRoute
from scanlet.actors.codes.index import CodeIndex, Route
from scanlet.actors.codes.keys import slug_of_key
from scanlet.actors.codes.passwords import password_matches
from scanlet.actors.events import Source
from scanlet.actors.scans.client import ScansClient
from scanlet.actors.scans.messages import RecordOrphan, RecordScan, ScanRejected
from scanlet.actors.scans.privacy import Network, client_address
from scanlet.clock import Clock
from scanlet.http.problems import MEDIA_TYPE, Problem
from scanlet.http.ratelimit import ScanLimits, limit_key, retry_after
from scanlet.http.visit import RequestVisit, VisitContext
from scanlet.runtime import ActorError, MailboxFull
from scanlet.storage.errors import StorageUnavailable

__all__ = (
    "COMPACT_TEMPLATE",
    "EXCLUDE_COOKIE",
    "LINK_TEMPLATE",
    "QR_TEMPLATE",
    "HeaderFields",
    "HeaderKinds",
    "Located",
    "ScanFacts",
    "ScanPath",
    "ScanReply",
    "header_kinds",
    "in_networks",
    "peer_of",
    "read_request",
)

log = structlog.get_logger("scanlet.http")

LINK_TEMPLATE, QR_TEMPLATE = "/{slug}", "/q/{slug}"
#: The compact QR payload's path (SCANLET_QR_COMPACT): the slug whatever its case.
COMPACT_TEMPLATE = "/Q/{slug}"
#: The cookie ``/dashboard/exclude-me`` sets: this browser's scans are the owner's own.
EXCLUDE_COOKIE = "scanlet_exclude"
_EXCLUDE_COOKIE = f"{EXCLUDE_COOKIE}=1"
_SLUG_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_NO_STORE = (b"cache-control", b"private, max-age=0")
_EMPTY = (b"content-length", b"0")

_PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8>"
    '<meta name=viewport content="width=device-width,initial-scale=1"><title>{title}</title>'
    "<style>body{{font:16px system-ui,sans-serif;margin:20vh auto;max-width:30rem;"
    "text-align:center;color:#333}}</style></head><body><h1>{title}</h1><p>{detail}</p>"
    "</body></html>"
)
_PASSWORD_PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8>"
    '<meta name=viewport content="width=device-width,initial-scale=1"><title>Password</title>'
    "<style>body{{font:16px system-ui,sans-serif;margin:20vh auto;max-width:22rem;"
    "text-align:center;color:#333}}input,button{{font:inherit;padding:.5rem;margin:.25rem}}"
    ".error{{color:#b00020}}</style></head><body><h1>This code is protected</h1>{error}"
    "<form method=post><label>Password <input type=password name=password required autofocus "
    "maxlength=256 autocomplete=current-password></label><button type=submit>Open</button>"
    "</form></body></html>"
)
_WRONG = "<p class=error role=alert>That password is not right.</p>"
_PAGE_TITLES = {
    404: "Code not found",
    410: "Code no longer active",
    422: "Scan not recorded",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Try again shortly",
}
_SLOW_DOWN = "Too many requests from your address; try again in a little while."
_STATIC = "This code is not a link: its QR image holds its content."
#: A scan's code key (``scanlet.actors.codes.keys``) and its registered domain (None: the
#: default domain), as ``ScanPath.locate`` reads them from the request.
Located = tuple[str, DomainRoute | None]
_encode = msgspec.json.Encoder().encode


class ScanFacts(msgspec.Struct, gc=False):
    """What a scan request says about its client, read from the request once.

    Repeated headers: the first ``User-Agent``, ``Referer`` and country header count (as
    Starlette's ``headers.get`` reads them); repeated ``X-Forwarded-For`` headers are joined
    in order, as HTTP defines a repeated list header. A Struct: one is built per scan, and
    msgspec builds it in C.
    """

    peer: str | None
    address: str
    user_agent: str | None
    referrer: str | None
    country: str | None
    html: bool
    traced: bool
    #: The size of every header name and value, as the request limits count it.
    header_bytes: int = 0
    #: Accept-Language as sent (parsed only for a code with a language rule).
    languages: str | None = None
    #: The browser carries the exclude-me cookie.
    own: bool = False


#: What ``read_request`` does with a header, by its name.
_USER_AGENT, _REFERER, _FORWARDED, _ACCEPT, _TRACEPARENT, _COOKIE, _LANGUAGES, _COUNTRY = range(8)
_KINDS = {
    "user-agent": _USER_AGENT,
    "referer": _REFERER,
    "x-forwarded-for": _FORWARDED,
    "accept": _ACCEPT,
    "traceparent": _TRACEPARENT,
    "cookie": _COOKIE,
    "accept-language": _LANGUAGES,
}
#: Header fields as a server hands them in: ASGI's bytes, or RSGI's text.
HeaderFields = Iterable[tuple[bytes, bytes]] | Iterable[tuple[str, str]]
#: The header names ``read_request`` reads (``header_kinds``), as bytes and as text.
HeaderKinds = dict[bytes | str, int]


def header_kinds(country_header: str = "") -> HeaderKinds:
    """The names ``read_request`` reads, the configured country header's among them (it
    never takes a name read for something else), in both forms a server may use."""
    kinds: dict[str, int] = dict(_KINDS)
    if country_header:
        kinds.setdefault(country_header, _COUNTRY)
    both: HeaderKinds = {name.encode("latin-1"): kind for name, kind in kinds.items()}
    both.update(kinds)
    return both


def read_request(
    headers: HeaderFields,
    peer: str | None,
    trusted: tuple[Network, ...],
    kinds: HeaderKinds,
) -> ScanFacts:
    """The facts of one scan request (the only place that reads a scan's headers), from its
    header fields as bytes (ASGI) or text (RSGI) and its peer's address."""
    user_agent = referrer = forwarded = country = languages = None
    html = traced = own = False
    size = 0
    kind_of = kinds.get
    for name, value in headers:
        size += len(name) + len(value)
        # One lookup for each field: most of a browser's (Host, Accept-Encoding, the
        # Sec-Fetch-* family) are none of these.
        kind = kind_of(name)
        if kind is None:
            continue
        if kind == _TRACEPARENT:
            traced = True
            continue
        text = value if isinstance(value, str) else value.decode("latin-1")
        if kind == _USER_AGENT:
            if user_agent is None:
                user_agent = text
        elif kind == _REFERER:
            if referrer is None:
                referrer = text
        elif kind == _FORWARDED:
            forwarded = text if forwarded is None else f"{forwarded},{text}"
        elif kind == _ACCEPT:
            html = html or "text/html" in text
        elif kind == _COOKIE:
            own = own or _EXCLUDE_COOKIE in text
        elif kind == _LANGUAGES:
            if languages is None:
                languages = text
        elif country is None:
            country = text
    if peer is not None and not trusted and "." in peer and ":" not in peer:
        # A server names an IPv4 peer in dotted-quad form already: the common case needs
        # no parsing (client_address would say the same, after a regex).
        address = peer
    else:
        address = client_address(peer, forwarded, trusted)
    if country is not None:
        # Believed only from a trusted proxy; anybody else could claim any country.
        country = country if trusted and in_networks(peer, trusted) else None
    return ScanFacts(
        peer, address, user_agent, referrer, country, html, traced, size, languages, own
    )


def peer_of(scope: Scope) -> str | None:
    """The address of the request's peer, as the ASGI server names it (None: unknown)."""
    client = scope.get("client")
    return client[0] if client else None


def in_networks(address: str | None, networks: tuple[Network, ...]) -> bool:
    """Whether ``address`` (a peer, a client address) is in one of ``networks``."""
    # client_address canonicalises it (IPv4-mapped IPv6 as IPv4) without X-Forwarded-For.
    canonical = client_address(address, None, ()) if address else ""
    if not canonical:
        return False
    parsed = ip_address(canonical)
    return any(parsed in network for network in networks)


class ScanReply:
    """A finished scan response: status, headers and body, for either entrance to send.

    The headers leave out ``SECURITY_HEADERS``: each entrance adds them with the rest of its
    own (``ScanletApp.full_stack`` adds them to every response of the full app).
    """

    __slots__ = ("body", "headers", "status", "text_headers")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        #: The headers as text with the security headers (RSGI), made by the entrance on
        #: first use: a reply made once and sent again (``ScanPath.plain_redirect``) decodes
        #: them once.
        self.text_headers: list[tuple[str, str]] | None = None


def _password_form(status: int, error: str) -> ScanReply:
    """The form a protected code answers with: posted back to the same URL."""
    body = _PASSWORD_PAGE.format(error=error).encode()
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        _NO_STORE,
    ]
    return ScanReply(status, headers, body)


def _card_reply(card: bytes, key: str) -> ScanReply:
    """A tracked vcard code's answer: its card as a .vcf download named by its slug (not
    its key: a code on another domain is ``host/slug``)."""
    slug = slug_of_key(key)
    headers = [
        (b"content-type", b"text/vcard; charset=utf-8"),
        (b"content-length", str(len(card)).encode()),
        # Slugs are [A-Za-z0-9_-]: safe in a quoted file name as they are.
        (b"content-disposition", f'attachment; filename="{slug}.vcf"'.encode()),
        _NO_STORE,
    ]
    return ScanReply(200, headers, card)


def _redirect_reply(status: int, location: bytes) -> ScanReply:
    headers = [(b"location", location), _NO_STORE, _EMPTY]
    return ScanReply(status, headers, b"")


def _refusal(
    facts: ScanFacts | None, status: int, detail: str, extra: dict[str, str] | None = None
) -> ScanReply:
    """An HTML page for a browser, problem+json for everything else."""
    if facts is not None and facts.html:
        media = b"text/html; charset=utf-8"
        body = _PAGE.format(title=_PAGE_TITLES.get(status, "Error"), detail=escape(detail))
        raw = body.encode()
    else:
        media = MEDIA_TYPE.encode()
        raw = _encode(Problem(status, detail).body())
    headers = [
        (b"content-type", media),
        (b"content-length", str(len(raw)).encode()),
        _NO_STORE,
    ]
    for name, value in (extra or {}).items():
        headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return ScanReply(status, headers, raw)


_STORE_FAILURES = (ActorError, StorageUnavailable, ScanRejected)


def _not_stored(facts: ScanFacts, exc: Exception) -> ScanReply:
    """The reply when the scans actor did not store a scan (see ``ScansClient``)."""
    if isinstance(exc, MailboxFull):
        busy = "The server is busy; try again shortly."
        return _refusal(facts, 503, busy, {"Retry-After": retry_after(exc.retry_after)})
    if isinstance(exc, ScanRejected):
        return _refusal(facts, 422, str(exc))
    log.error("scan not recorded", error=str(exc), error_type=type(exc).__name__)
    return _refusal(facts, 503, "The service is temporarily unavailable.", {"Retry-After": "1"})


#: Plain redirect replies kept for reuse (``ScanPath.plain_redirect``).
PLAIN_REDIRECTS = 1024


class ScanPath:
    """Judges a scan request and records it. Built with the app; ``bind`` hands in what the
    lifespan builds later, and no request is answered before that."""

    index: CodeIndex
    scans: ScansClient
    clock: Clock
    trusted: tuple[Network, ...] = ()
    header_kinds: HeaderKinds = header_kinds()
    visits: VisitContext
    excluded: tuple[Network, ...] = ()
    #: SCANLET_NOT_FOUND_URL and SCANLET_ROOT_URL ("": none).
    not_found_url: str = ""
    root_url: str = ""

    def __init__(self, limits: ScanLimits) -> None:
        self.limits = limits
        self.ready = False
        self._plain_redirects: dict[tuple[int, bytes], ScanReply] = {}

    def bind(
        self,
        *,
        index: CodeIndex,
        scans: ScansClient,
        clock: Clock,
        trusted: tuple[Network, ...],
        country_header: str,
        visits: VisitContext,
        excluded: tuple[Network, ...] = (),
        not_found_url: str = "",
        root_url: str = "",
    ) -> None:
        """Hand in the running services (called by the lifespan, before serving)."""
        self.visits = visits
        self.excluded = excluded
        self.not_found_url = not_found_url
        self.root_url = root_url
        self.index = index
        self.scans = scans
        self.clock = clock
        self.trusted = trusted
        self.header_kinds = header_kinds(country_header)
        self.ready = True

    def locate(self, scope: Scope, slug: str) -> Located:
        """The code a request for ``slug`` means: its key on the domain the ``Host`` header
        names (any other host: the default domain, whose keys are the bare slugs)."""
        return self.locate_host(self.host_of(scope), slug)

    def host_of(self, scope: Scope) -> bytes | None:
        """The request's ``Host`` header, read only while some domain is registered (None
        otherwise, or without one)."""
        if not self.index.domains.hosts:
            return None
        for name, value in scope["headers"]:
            if name == b"host":
                return bytes(value)
        return None

    def locate_host(self, host: bytes | None, slug: str) -> Located:
        """``locate`` for a ``Host`` header already read (None: none): the one place a
        scan's domain is decided, from memory."""
        domains = self.index.domains
        if host is None or not domains.hosts:
            return slug, None
        domain = domains.of_host_header(host)
        return (slug, None) if domain is None else (domain.prefix + slug, domain)

    async def answer(
        self,
        scope: Scope,
        slug: str,
        source: Source,
        facts: ScanFacts | None = None,
        route: Route | None = None,
        password: str | None = None,
        located: Located | None = None,
        *,
        fold: bool = False,
    ) -> ScanReply:
        """The reply to one scan request; never raises (failures become 5xx replies).
        ``facts``, ``located`` and ``route`` when the caller has them already (the front
        has looked the slug up to choose its entrance); ``password`` as a protected code's
        form posted it (POST: answered 405 for a code without one, 404 without recording
        for no code); ``fold``: ``slug`` came by ``/Q/`` and names a slug of its domain
        ignoring case."""
        try:
            if facts is None:
                facts = read_request(
                    scope["headers"], peer_of(scope), self.trusted, self.header_kinds
                )
            key, domain = self.locate(scope, slug) if located is None else located
            method = scope["method"]
            if route is None:
                found = self.index.canonical(key) if fold else key
                # By /Q/, a slug equal to no taken one of its domain ignoring case, or to
                # several, names no code: never a guess (an exact match could be another's
                # printed code).
                if found is not None:
                    key = found
                    slug = slug_of_key(found)
                route = None if found is None else self.index.resolve(found)
                if route is None:
                    if found is not None and self.index.is_static(found):
                        # Its image holds its content: nothing to redirect to, nothing to
                        # count (not an orphan either: the code exists).
                        return _refusal(facts, 404, _STATIC)
                    if method == "POST":
                        return _refusal(facts, 404, "There is no code with this address.")
                    return await self._unknown(
                        facts, slug, key, domain, source, method != "HEAD", taken=found is not None
                    )
            if method == "POST" and (route.router is None or not route.router.password_hash):
                return _refusal(facts, 405, "This code takes no password.", {"Allow": "GET, HEAD"})
            return await self._redirect(
                scope, facts, route, method != "HEAD", key, source, password
            )
        except Exception:
            log.exception("unhandled error on the scan path", path=scope.get("path"))
            return _refusal(None, 500, "An unexpected error occurred; it has been logged.")

    def visit(self, scope: Scope, facts: ScanFacts, now: datetime) -> RequestVisit:
        """The request as the routing decision sees it."""
        return RequestVisit(
            self.visits,
            now,
            facts.address,
            facts.user_agent,
            facts.country,
            facts.languages,
            scope.get("query_string", b""),
        )

    async def _redirect(
        self,
        scope: Scope,
        facts: ScanFacts,
        route: Route,
        record: bool,
        slug: str,
        source: Source,
        password: str | None = None,
    ) -> ScanReply:
        now = self.clock.now()
        gone = route.gone_reason(now)
        router = route.router
        status = route.redirect_status
        choice: Choice | None = None
        if router is None:
            # The plain redirect: nothing to decide, nothing allocated for it.
            if gone is not None:
                return _refusal(facts, 410, gone)
            location = route.location
        else:
            decided = decide(router, self.visit(scope, facts, now), slug, gone is not None)
            if decided is None:
                return _refusal(facts, 410, gone or "")
            choice, location = decided
            status = router.status if gone is None else FALLBACK_STATUS
            if gone is None and router.password_hash is not None:
                refused = await self._password_refusal(facts, router.password_hash, password)
                if refused is not None:
                    return refused
        limits = self.limits
        if limits.redirect is not None:
            wait = limits.redirect.take(limit_key(facts.address))
            if wait:
                limits.refused_redirect.inc()
                return _refusal(facts, 429, _SLOW_DOWN, {"Retry-After": retry_after(wait)})
        # A tracked vcard answers with its card, unless a fallback took the scan.
        card = route.card is not None and gone is None
        if record:
            fallback = gone is not None
            scan = RecordScan(
                slug,
                source,
                now,
                facts.address,
                facts.user_agent,
                facts.referrer,
                facts.country,
                max_scans=None if fallback else route.max_scans,
                target=None if card else (route.target if choice is None else choice.target),
                rule=None if choice is None or choice.rule == TARGET else choice.rule,
                outcome="fallback"
                if fallback
                else ("card" if card else ("password" if password is not None else "redirect")),
                excluded=facts.own
                or (bool(self.excluded) and in_networks(facts.address, self.excluded)),
            )
            try:
                recorded = await self.scans.record(scan)
                if not recorded and router is not None and router.fallback is not None:
                    # Used up (only the scans actor knows): the fallback takes the scan.
                    decided = decide(router, self.visit(scope, facts, now), slug, True)
                    assert decided is not None  # a fallback always decides
                    choice, location = decided
                    status = FALLBACK_STATUS
                    scan.max_scans = None
                    scan.target, scan.rule, scan.outcome = choice.target, choice.rule, "fallback"
                    card = False
                    recorded = await self.scans.record(scan)
            except _STORE_FAILURES as exc:
                return _not_stored(facts, exc)
            if not recorded:
                return _refusal(facts, 410, "This code has reached its scan limit.")
        if card and route.card is not None:
            return _card_reply(route.card, slug)
        if router is None:
            return self.plain_redirect(status, location)
        return _redirect_reply(status, location)

    def plain_redirect(self, status: int, location: bytes) -> ScanReply:
        """A code's redirect without rules: the same reply for every scan of it, made once
        (the entrances only read a reply). At most ``PLAIN_REDIRECTS`` are kept: a code's
        target is bounded, and rules' locations, which a request may shape, are never kept."""
        key = (status, location)
        reply = self._plain_redirects.get(key)
        if reply is None:
            if len(self._plain_redirects) >= PLAIN_REDIRECTS:
                self._plain_redirects.clear()
            reply = self._plain_redirects[key] = _redirect_reply(status, location)
        return reply

    async def _password_refusal(
        self, facts: ScanFacts, stored: str, attempt: str | None
    ) -> ScanReply | None:
        """None when ``attempt`` is the code's password; else the form (again)."""
        if attempt is None:
            return _password_form(200, "")
        limits = self.limits
        # Before the check: every attempt costs an argon2 run, and a guesser must stay slow.
        wait = limits.password.take(limit_key(facts.address))
        if wait:
            limits.refused_password.inc()
            return _refusal(facts, 429, _SLOW_DOWN, {"Retry-After": retry_after(wait)})
        if await password_matches(stored, attempt):
            return None
        return _password_form(403, _WRONG)

    async def _unknown(
        self,
        facts: ScanFacts,
        slug: str,
        key: str,
        domain: DomainRoute | None,
        source: Source,
        record: bool,
        *,
        taken: bool = True,
    ) -> ScanReply:
        """A slug with no live code; ``taken``: it may be a deleted one's (410)."""
        limits = self.limits
        # Checked before anything is recorded: an enumeration costs a dict lookup, not a write.
        wait = limits.notfound.take(limit_key(facts.address))
        if wait:
            limits.refused_notfound.inc()
            return _refusal(facts, 429, _SLOW_DOWN, {"Retry-After": retry_after(wait)})
        if not _SLUG_RE.match(slug):
            return _refusal(facts, 404, "There is no code here.")
        if record:
            orphan = RecordOrphan(
                key,
                source,
                self.clock.now(),
                facts.address,
                facts.user_agent,
                facts.referrer,
                facts.country,
            )
            try:
                await self.scans.record_orphan(orphan)
            except _STORE_FAILURES as exc:
                return _not_stored(facts, exc)
        not_found_url = (domain.not_found_url if domain else "") or self.not_found_url
        if not_found_url:
            # A printed code never dead-ends: unknown and deleted slugs alike (recorded above
            # as orphans) go where the owner says: the domain's own URL, else the server's.
            location = location_of(not_found_url.replace("{slug}", slug))
            return _redirect_reply(FALLBACK_STATUS, location)
        if taken and self.index.is_taken(key):
            return _refusal(facts, 410, "This code was deleted.")
        return _refusal(facts, 404, "There is no code with this address.")

    def root(self, scope: Scope) -> ScanReply | None:
        """``GET /``: a redirect to the root URL of the domain the ``Host`` names, else to
        SCANLET_ROOT_URL, or None (then 404)."""
        _, domain = self.locate(scope, "")
        root_url = (domain.root_url if domain else "") or self.root_url
        if not root_url:
            return None
        return _redirect_reply(FALLBACK_STATUS, location_of(root_url))
