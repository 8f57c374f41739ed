"""``ScanletApp``: Starlette with the raw scan front consulted before the middleware stack."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from scanlet.http.fastpath import ScanFastPath
from scanlet.http.middleware import SECURITY_HEADERS, sending_headers

__all__ = ("ScanletApp",)


class ScanletApp(Starlette):
    """Starlette, with the scan fast path consulted before the middleware stack."""

    fast_path: ScanFastPath | None = None
    #: Sent with every response (``security_headers``), the fast path's included.
    security_headers: list[tuple[bytes, bytes]] = SECURITY_HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Offer the request to the fast path, which hands it on when it is not its case."""
        if self.fast_path is not None:
            await self.fast_path(scope, receive, send)
        else:
            await self.full_stack(scope, receive, send)

    async def full_stack(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ordinary Starlette application, every HTTP answer with the security headers.

        Added here, outside Starlette's outermost error middleware, so that a 500 from an
        unhandled exception carries them too.
        """
        if scope["type"] == "http":
            send = sending_headers(send, self.security_headers)
        await super().__call__(scope, receive, send)

    def close_streams(self) -> None:
        """End the open event streams (the API's and the dashboard's) once each has sent
        what the log holds, and those opened from now on likewise: the server's drain calls
        it first, since a stream lasts as long as its client and held the drain until its
        timeout (then cut off mid-response; under granian the process took minutes more
        to exit). Their clients reconnect after ``retry`` with ``Last-Event-ID``."""
        services = getattr(self.state, "services", None)
        hub = getattr(services, "stream", None)
        if hub is not None:
            hub.tail.close()

    def send_slow_requests_through(self, wrapper: ASGIApp) -> None:
        """Route every request the fast path does not answer through ``wrapper`` (which
        calls ``full_stack``): drain tracking then costs live-code scans nothing."""
        if self.fast_path is not None:
            self.fast_path.app = wrapper
