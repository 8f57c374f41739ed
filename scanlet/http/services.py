"""What the routes reach through ``request.app.state``: built once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from prometheus_client import CollectorRegistry
from starlette.requests import Request

from scanlet.actors.access.keys import ApiKeys
from scanlet.actors.access.principals import Access
from scanlet.actors.access.users import Users
from scanlet.actors.codes.actor import CodesClient
from scanlet.actors.codes.index import CodeIndex
from scanlet.actors.scans.client import ScansClient
from scanlet.actors.scans.privacy import Network
from scanlet.adapters.qr_images import NO_LOGOS, LogoSource, QrRenderer
from scanlet.clock import Clock
from scanlet.config import Settings
from scanlet.http.build_slots import BuildSlots
from scanlet.runtime import ActorSystem, SupervisorRef
from scanlet.storage.ports import Leadership, RawScanReader, Storage
from scanlet.storage.server_key import ServerKey

if TYPE_CHECKING:
    from scanlet.actors.webhooks.registry import WebhooksClient
    from scanlet.http.dashboard.session import DashboardAuth
    from scanlet.http.stream import StreamHub

__all__ = ("Services", "installed", "services")

T = TypeVar("T")


@dataclass
class Services:
    """The running process's dependencies, handed to routes (constructor injection)."""

    settings: Settings
    clock: Clock
    registry: CollectorRegistry
    #: The database behind every repository (SQLite or PostgreSQL).
    storage: Storage
    keys: ApiKeys
    #: Accounts, and who presents a key or a session (``access.principals``).
    users: Users
    access: Access
    system: ActorSystem
    #: The supervisor of the codes and scans actors (redirects and ingest), and their names.
    core: SupervisorRef
    core_actors: tuple[str, ...]
    #: Each installed feature's own supervisor, by feature name (filled as they start).
    features: dict[str, SupervisorRef]
    index: CodeIndex
    codes: CodesClient
    scans: ScansClient
    qr: QrRenderer
    trusted_networks: tuple[Network, ...]
    #: The secret kept outside the database, for keys that a database copy must not give.
    server_key: ServerKey
    #: Whether this instance runs the log followers (always, on SQLite).
    leadership: Leadership
    # What each feature hands its routes when it starts (None when it is not installed; its
    # routes are not either).
    #: analytics: raw scans, for listings and exports.
    raw_scans: RawScanReader | None = None
    #: integrations: the webhook registry's client, and the live streams' hub.
    webhooks: WebhooksClient | None = None
    stream: StreamHub | None = None
    #: dashboard: sessions and form tokens.
    dashboard: DashboardAuth | None = None
    #: Where the QR route finds a code's logo (``logo=true``): the codes' stored logos.
    logos: LogoSource = NO_LOGOS
    #: QR archives being built (CPU work any read key can start: a few at a time).
    qr_archives: BuildSlots = field(default_factory=lambda: BuildSlots("QR archives"))


def installed(handle: T | None, feature: str) -> T:
    """``handle``, which ``feature`` made when it started; a route of a feature that did not
    start is a bug, not a client's error."""
    if handle is None:
        raise RuntimeError(f"the {feature} feature has not started")
    return handle


def services(request: Request) -> Services:
    """The services of the app serving ``request``."""
    svc: Services = request.app.state.services
    return svc
