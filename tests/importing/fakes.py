"""Small fake servers of the tools Scanlet imports from, answering as their API documents
say (Shlink's REST API v3, YOURLS with the yourls-shlink-import plugin, Kutt's API v2), on
a real loopback socket, in a thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ("Answer", "FakeKutt", "FakeShlink", "FakeYourls", "serving")

Answer = tuple[int, Any]


@contextmanager
def serving(handle: Callable[[str, dict[str, str], dict[str, str]], Answer]) -> Iterator[str]:
    """Serve ``handle(path, query, headers) -> (status, json)`` on 127.0.0.1; the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body = handle(unquote(parts.path), query, headers)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _page(items: list[Any], query: dict[str, str], per_page_default: int = 10) -> dict[str, Any]:
    page = int(query.get("page", "1"))
    per_page = int(query.get("itemsPerPage", str(per_page_default)))
    chunk = items[(page - 1) * per_page : page * per_page]
    pages = max(1, -(-len(items) // per_page))
    return {
        "data": chunk,
        "pagination": {
            "currentPage": page,
            "pagesCount": pages,
            "itemsPerPage": per_page,
            "itemsInCurrentPage": len(chunk),
            "totalItems": len(items),
        },
    }


class FakeShlink:
    """Shlink v3: ``/rest/v3/short-urls``, ``.../{shortCode}/visits``,
    ``.../{shortCode}/redirect-rules`` (Shlink 4), ``/visits/orphan``. ``rules=False`` is a
    Shlink 3, which has no redirect-rules route (404)."""

    def __init__(self, key: str = "shlink-key", *, rules: bool = True) -> None:
        self.key = key
        self.short_urls: list[dict[str, Any]] = []
        self.visits: dict[str, list[dict[str, Any]]] = {}
        #: Each short code's ``redirectRules``, as Shlink lists them.
        self.rules: dict[str, list[dict[str, Any]]] = {}
        self.has_rules_route = rules
        self.orphans: list[dict[str, Any]] = []
        self.requests: list[str] = []

    @staticmethod
    def rule(
        long_url: str, priority: int, *conditions: tuple[str, str | None, str | None]
    ) -> dict[str, Any]:
        """A redirect rule of (type, matchKey, matchValue) conditions."""
        return {
            "longUrl": long_url,
            "priority": priority,
            "conditions": [
                {"type": kind, "matchKey": key, "matchValue": value}
                for kind, key, value in conditions
            ],
        }

    def add(self, code: str, long_url: str, visits: int = 0, **extra: Any) -> dict[str, Any]:
        item = {
            "shortCode": code,
            "shortUrl": f"https://s.test/{code}",
            "longUrl": long_url,
            "dateCreated": "2024-03-01T10:00:00+01:00",
            "visitsSummary": {"total": visits, "nonBots": visits, "bots": 0},
            "tags": [],
            "meta": {"validSince": None, "validUntil": None, "maxVisits": None},
            "domain": None,
            "title": None,
            "crawlable": False,
            "forwardQuery": True,
            **({"hasRedirectRules": False} if self.has_rules_route else {}),
            **extra,
        }
        self.short_urls.append(item)
        self.visits[code] = [self.visit(n) for n in range(visits)]
        return item

    @staticmethod
    def visit(n: int, **extra: Any) -> dict[str, Any]:
        return {
            "referer": "https://www.google.com/" if n % 2 else "",
            "date": f"2024-03-0{2 + n % 3}T1{n % 10}:00:00+00:00",
            "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
            "visitLocation": {
                "countryCode": "ES",
                "countryName": "Spain",
                "regionName": "Madrid",
                "cityName": "Madrid",
                "latitude": 40.4,
                "longitude": -3.7,
                "timezone": "Europe/Madrid",
                "isEmpty": False,
            },
            "potentialBot": False,
            "visitedUrl": "https://s.test/x",
            **extra,
        }

    def __call__(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        self.requests.append(path)
        if headers.get("x-api-key") != self.key:
            return 401, {"type": "https://shlink.io/api/error/invalid-api-key", "status": 401}
        if path == "/rest/v3/short-urls":
            return 200, {"shortUrls": _page(self.short_urls, query)}
        if path == "/rest/v3/visits/orphan":
            return 200, {"visits": _page(self.orphans, query)}
        parts = path.split("/")
        if len(parts) == 6 and parts[3] == "short-urls" and parts[5] == "redirect-rules":
            if not self.has_rules_route or parts[4] not in self.visits:
                return 404, {"type": "https://shlink.io/api/error/not-found", "status": 404}
            long_url = next(s["longUrl"] for s in self.short_urls if s["shortCode"] == parts[4])
            return 200, {"defaultLongUrl": long_url, "redirectRules": self.rules.get(parts[4], [])}
        if len(parts) == 6 and parts[3] == "short-urls" and parts[5] == "visits":
            if parts[4] not in self.visits:
                return 404, {"type": "https://shlink.io/api/error/short-url-not-found"}
            return 200, {"visits": _page(self.visits[parts[4]], query)}
        return 404, {"status": 404}


class FakeYourls:
    """YOURLS's ``yourls-api.php`` with the yourls-shlink-import plugin's two actions."""

    def __init__(self, signature: str = "sig", plugin: bool = True) -> None:
        self.signature = signature
        self.plugin = plugin
        self.links: list[dict[str, Any]] = []
        self.clicks: dict[str, list[dict[str, Any]]] = {}

    def add(self, keyword: str, url: str, clicks: list[dict[str, Any]]) -> None:
        self.links.append(
            {
                "keyword": keyword,
                "url": url,
                "title": f"Title of {keyword}",
                "timestamp": "2019-06-01 12:00:00",
                "ip": "198.51.100.1",
                "clicks": len(clicks),
            }
        )
        self.clicks[keyword] = clicks

    def __call__(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        if path != "/yourls-api.php":
            return 404, {}
        authorised = query.get("signature") == self.signature or (
            query.get("username") == "admin" and query.get("password") == "pw"
        )
        if not authorised:
            return 403, {"message": "Please log in", "errorCode": 403}
        action = query.get("action")
        if not self.plugin or action not in ("shlink-list", "shlink-link-visits"):
            return 400, {"errorCode": 400, "message": 'Unknown or missing "action" parameter'}
        if action == "shlink-list":
            return 200, {"statusCode": 200, "message": "success", "result": self.links}
        keyword = query.get("shortCode", "")
        return 200, {"statusCode": 200, "message": "success", "result": self.clicks[keyword]}


class FakeKutt:
    """Kutt's API v2 ``/api/v2/links`` with ``limit``/``skip``."""

    def __init__(self, key: str = "kutt-key") -> None:
        self.key = key
        self.links: list[dict[str, Any]] = []

    def add(self, address: str, target: str, visits: int, **extra: Any) -> None:
        self.links.append(
            {
                "id": f"00000000-0000-4000-8000-{len(self.links):012d}",
                "address": address,
                "banned": False,
                "created_at": "2022-02-02T02:02:02.000Z",
                "link": f"https://kutt.test/{address}",
                "password": False,
                "target": target,
                "description": None,
                "updated_at": "2022-02-02T02:02:02.000Z",
                "visit_count": visits,
                **extra,
            }
        )

    def __call__(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        if headers.get("x-api-key") != self.key:
            return 401, {"error": "Unauthorized"}
        if path != "/api/v2/links":
            return 404, {"error": "Not found"}
        limit, skip = int(query.get("limit", "10")), int(query.get("skip", "0"))
        return 200, {
            "limit": limit,
            "skip": skip,
            "total": len(self.links),
            "data": self.links[skip : skip + limit],
        }
