"""The webhook sender over HTTP: POSTs one signed delivery with httpx, reports what happened.

Its connections go through ``GuardedBackend``, which vets every address a host name resolves
to (the SSRF guard) and then connects to that vetted address itself, so the URL, the
``Host`` header, TLS SNI and certificate checks all keep the host name while no second DNS
answer can redirect the connection. Tests inject an httpx transport (e.g.
``httpx.MockTransport``) or their own sender.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import anyio
import httpcore
import httpx

from scanlet import __version__
from scanlet.actors.webhooks.policy import TIMEOUT
from scanlet.actors.webhooks.sender import Outgoing, SendResult
from scanlet.actors.webhooks.ssrf import Resolver, UnsafeUrl, system_resolver, vet_host

__all__ = ("GuardedBackend", "HttpxSender", "guarded_transport")

USER_AGENT = f"Scanlet-Webhooks/{__version__}"


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses the SSRF guard allows."""

    def __init__(self, *, allow_private: bool, resolver: Resolver = system_resolver) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private
        self._resolver = resolver

    async def connect_tcp(
        self,
        host: str,
        port: int,
        # httpcore's interface passes the connect timeout as a parameter.
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve and vet ``host`` (UnsafeUrl if refused), then connect to a vetted address."""
        addresses = await vet_host(
            host, port, allow_private=self._allow_private, resolver=self._resolver
        )
        error: Exception | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(ip), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Unix sockets are never a webhook target."""
        raise UnsafeUrl("webhooks do not connect to unix sockets")

    async def sleep(self, seconds: float) -> None:
        """Sleep as the inner backend does."""
        await self._inner.sleep(seconds)


def guarded_transport(*, allow_private: bool, resolver: Resolver) -> httpx.AsyncHTTPTransport:
    """httpx's transport with its connection pool built on ``GuardedBackend``."""
    transport = httpx.AsyncHTTPTransport(trust_env=False, retries=0)
    # httpx does not take a network backend, so the pool it built is replaced by the same
    # pool on ours (httpx's own TLS context and limits, as in its constructor).
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedBackend(allow_private=allow_private, resolver=resolver),
    )
    return transport


class HttpxSender:
    """Sends deliveries with httpx: no redirects, no proxies from the environment, a total
    deadline of ``timeout`` seconds, and the response body left unread."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver = system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self._timeout = timeout
        self._client = httpx.AsyncClient(
            transport=transport
            or guarded_transport(allow_private=allow_private, resolver=resolver),
            follow_redirects=False,
            trust_env=False,
            timeout=timeout,
            headers={"user-agent": USER_AGENT},
        )

    async def send(self, outgoing: Outgoing) -> SendResult:
        """POST the delivery; a status code, or an error (timeout, refused, unsafe address)."""
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            with anyio.fail_after(self._timeout):
                request = self._client.build_request(
                    "POST", outgoing.url, headers=outgoing.headers, content=outgoing.body
                )
                response = await self._client.send(request, stream=True)
                status = response.status_code
                await response.aclose()
        except TimeoutError:
            error = f"timed out after {self._timeout:g} s"
        except UnsafeUrl as exc:
            error = f"refused by the SSRF guard: {exc.reason}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return SendResult(status, error, time.perf_counter() - started)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
