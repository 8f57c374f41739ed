"""The composition root: builds the dependencies, the supervision tree and the app.

The only place that knows every concrete adapter and every feature. Routes and actors get
what they need handed to them.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
import structlog
from prometheus_client import CollectorRegistry, Gauge, ProcessCollector
from starlette.applications import Starlette
from starlette.middleware import Middleware

from scanlet import __version__
from scanlet.actors.access.keys import ApiKeys
from scanlet.actors.access.passwords import Passwords
from scanlet.actors.access.principals import Access
from scanlet.actors.access.users import FIRST_OWNER_HINT, Users
from scanlet.actors.codes.actor import CodesActor, CodesClient
from scanlet.actors.codes.domain_index import DomainIndex
from scanlet.actors.codes.index import CodeIndex
from scanlet.actors.codes.origins import OwnOrigins
from scanlet.actors.scans.activity import LiveScans
from scanlet.actors.scans.actor import ScansActor
from scanlet.actors.scans.client import ScansClient
from scanlet.actors.scans.metrics import ScanMetrics
from scanlet.adapters.geoip import open_countries
from scanlet.adapters.import_door import BUSY_SECONDS, DoorMetrics, door_address, serve_door
from scanlet.adapters.qr_images import QrRenderer, StoredLogos
from scanlet.adapters.user_agents import describe_agent, prepare_parsers
from scanlet.assembly.analytics import AnalyticsFeature
from scanlet.assembly.cluster import (
    ClusterCollector,
    hear_others,
    resync_codes,
    resync_interval,
)
from scanlet.assembly.dashboard import DashboardFeature
from scanlet.assembly.features import Feature
from scanlet.assembly.integrations import IntegrationsFeature
from scanlet.clock import Clock, SystemClock
from scanlet.config import Settings
from scanlet.http.app import ScanletApp
from scanlet.http.codes_api import SLUG_PARAM, code_endpoints
from scanlet.http.codes_bulk_api import batch_endpoints
from scanlet.http.domains_api import domain_endpoints
from scanlet.http.endpoint import Endpoint, build_routes
from scanlet.http.errors import exception_handlers
from scanlet.http.fastpath import ScanFastPath
from scanlet.http.history_api import history_endpoints
from scanlet.http.ingest_api import ingest_endpoints
from scanlet.http.logo_api import logo_endpoints
from scanlet.http.middleware import (
    BodyLimitMiddleware,
    HttpMetrics,
    RequestContextMiddleware,
    RequestLimitsMiddleware,
    security_headers,
)
from scanlet.http.openapi import build_openapi
from scanlet.http.ops import ops_endpoints
from scanlet.http.qr_api import qr_endpoints
from scanlet.http.qr_archive import qr_archive_endpoints
from scanlet.http.ratelimit import ScanLimits
from scanlet.http.redirect import redirect_endpoints
from scanlet.http.scan_path import ScanPath
from scanlet.http.services import Services
from scanlet.http.users_api import user_endpoints
from scanlet.http.visit import SPLIT_KEY_PURPOSE, VisitContext
from scanlet.observability.loop_lag import loop_lag_histogram, watch_loop_lag
from scanlet.observability.tracing import Tracing
from scanlet.runtime import (
    ActorSystem,
    Backoff,
    ChildSpec,
    SupervisorSpec,
)
from scanlet.storage.opening import open_storage
from scanlet.storage.private_files import database_files, tighten_modes
from scanlet.storage.server_key import ServerKey, ensure_server_key

__all__ = ("create_app",)

log = structlog.get_logger("scanlet.assembly")


def _build_info(registry: CollectorRegistry) -> None:
    info = Gauge(
        "scanlet_build_info",
        "Always 1; labels say which build runs.",
        ["version"],
        registry=registry,
    )
    info.labels(__version__).set(1)


async def _stop_on_failure(system: ActorSystem, app: Starlette) -> None:
    """When the root supervisor gives up, stop serving rather than limp on half-dead.

    Readiness turns 503 at once; the embedding server (scanlet.serving) sets
    ``app.state.stop_server`` and exits non-zero so a process manager restarts the whole
    process from a clean state.
    """
    failure = await system.wait_failed()
    app.state.fatal = failure
    log.critical("actor system failed; stopping the server", error=repr(failure))
    stop = getattr(app.state, "stop_server", None)
    if stop is not None:
        stop()


#: The core's actors restart quickly; past 5 restarts in 10 s the core gives up, and the
#: root with it: the process stops, and its process manager starts a fresh one.
CORE_SUPERVISOR = SupervisorSpec()
#: Whatever escalates to the root is fatal (the features' supervisor never escalates).
ROOT_SUPERVISOR = SupervisorSpec(max_restarts=0)
#: Each feature's own supervisor gives up after the same intensity...
FEATURE_SUPERVISOR = SupervisorSpec()


def features_supervisor(retry: float) -> SupervisorSpec:
    """...and the supervisor above the features starts it again after ``retry`` seconds,
    doubling up to ten times that, for as long as the process runs: it never gives up."""
    return SupervisorSpec(
        max_restarts=1_000_000, within=3600.0, backoff=Backoff(min=retry, max=10 * retry)
    )


def _server_key(settings: Settings, fresh_database: bool) -> ServerKey:
    """The server key, made on the first start; a loud line when an existing database
    starts without one (restored from a backup without its key file, most likely)."""
    path = settings.server_key_file
    key, created = ensure_server_key(path)
    if created and not fresh_database:
        log.warning(
            "no server key file: created a new one; today's unique visitors are counted"
            " afresh and dashboard forms already open must be reloaded",
            path=str(path),
        )
    elif created:
        log.info("created the server key file; back it up apart from the database", path=str(path))
    return key


def default_features(settings: Settings) -> list[Feature]:
    """The features ``SCANLET_FEATURES`` switches on (all by default; tests may pass their
    own list to ``create_app``)."""
    known: dict[str, Callable[[], Feature]] = {
        "analytics": AnalyticsFeature,
        "integrations": IntegrationsFeature,
        "dashboard": DashboardFeature,
    }
    return [known[name]() for name in settings.features]


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    registry: CollectorRegistry | None = None,
    tracing: Tracing | None = None,
    extra_endpoints: list[Endpoint] | None = None,
    features: Sequence[Feature] | None = None,
    passwords: Passwords | None = None,
) -> ScanletApp:
    """A Starlette app serving Scanlet with ``settings``; the lifespan runs the actors.

    ``passwords`` hashes account passwords (argon2id at its default costs unless given)."""
    clock = clock or SystemClock()
    passwords = passwords or Passwords()
    registry = registry or CollectorRegistry()
    tracing = tracing or Tracing()
    ProcessCollector(namespace="scanlet", registry=registry)
    _build_info(registry)
    http_metrics = HttpMetrics(registry)
    loop_lag = loop_lag_histogram(registry)
    scan_metrics = ScanMetrics(registry)
    door_metrics = DoorMetrics(registry)
    live_scans = LiveScans()
    limits = ScanLimits.from_settings(settings, registry)
    security = security_headers(settings.public_base_url)

    endpoints: list[Endpoint] = []
    scan_path = ScanPath(limits)

    def openapi() -> dict[str, object]:
        return build_openapi(endpoints, server_url=settings.public_base_url)

    endpoints.extend(ops_endpoints(openapi))
    # Before the codes: /api/v1/codes/{slug} would otherwise answer OPTIONS and other
    # methods on /api/v1/codes/batch with its own Allow header.
    endpoints.extend(batch_endpoints())
    endpoints.extend(code_endpoints())
    endpoints.extend(domain_endpoints())
    endpoints.extend(history_endpoints(SLUG_PARAM))
    endpoints.extend(qr_endpoints())
    endpoints.extend(logo_endpoints())
    endpoints.extend(qr_archive_endpoints())
    endpoints.extend(ingest_endpoints())
    endpoints.extend(user_endpoints())
    installed = list(default_features(settings) if features is None else features)
    for feature in installed:
        endpoints.extend(feature.endpoints())
    endpoints.extend(extra_endpoints or [])
    # Last: /{slug} matches any single path segment.
    endpoints.extend(redirect_endpoints(scan_path))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if settings.backend == "sqlite":
                tighten_modes([*database_files(settings.db)])
            tighten_modes([settings.server_key_file])
            storage = await stack.enter_async_context(open_storage(settings))
            server_key = _server_key(settings, storage.created)
            leadership = storage.leadership(settings.instance_name)
            # Taken before the codes load: the resync looks at code events from here on.
            codes_position = await storage.events.last_position()
            system = await stack.enter_async_context(
                ActorSystem(
                    name="scanlet",
                    supervisor=ROOT_SUPERVISOR,
                    ask_timeout=settings.ask_timeout,
                    registry=registry,
                    metric_prefix="scanlet",
                    tracer_provider=tracing.provider if tracing.enabled else None,
                )
            )
            index = CodeIndex(DomainIndex(settings.public_base_url))
            own_origins = OwnOrigins(settings.own_origins)
            # The core (redirects, ingest) and each feature get supervisors of their own: a
            # feature that gives up waits under "features" for a long pause and is started
            # again, while the core serves on. Only the core giving up stops the process.
            core = await system.spawn_supervisor("core", CORE_SUPERVISOR)
            above_features = await system.spawn_supervisor(
                "features", features_supervisor(settings.feature_retry)
            )
            codes_ref = await core.spawn(
                ChildSpec(
                    name="codes",
                    factory=lambda: CodesActor(
                        storage.codes,
                        index,
                        clock,
                        own_origins=own_origins,
                        domains=storage.domains,
                        compact=settings.qr_compact,
                    ),
                    mailbox_capacity=256,
                )
            )
            scans_ref = await core.spawn(
                ChildSpec(
                    name="scans",
                    factory=lambda: ScansActor(
                        storage.scans,
                        clock,
                        scan_metrics,
                        server_key,
                        anonymize=settings.anonymize_ip,
                        live=live_scans,
                    ),
                    mailbox_capacity=settings.scan_queue,
                    # A failed batch is answered with the error, never retried behind the
                    # clients' backs: they may already have been told to try again.
                    max_attempts=1,
                )
            )
            scans = ScansClient(scans_ref)
            keys = ApiKeys(storage.keys)
            app.state.services = services = Services(
                settings=settings,
                clock=clock,
                registry=registry,
                storage=storage,
                keys=keys,
                users=Users(storage.users, passwords),
                access=Access(keys, storage.users, index.domains.default_host),
                system=system,
                core=core,
                core_actors=tuple(core.children),
                features={},
                index=index,
                codes=CodesClient(codes_ref),
                scans=scans,
                qr=QrRenderer(),
                logos=StoredLogos(storage.codes),
                trusted_networks=settings.trusted_networks,
                server_key=server_key,
                leadership=leadership,
            )
            scan_path.bind(
                index=index,
                scans=scans,
                clock=clock,
                trusted=services.trusted_networks,
                country_header=settings.country_header,
                # Routing rules judge devices and countries with analytics' own adapters.
                visits=VisitContext(
                    describe_agent,
                    open_countries(settings.geoip_db, stack),
                    server_key.derive(SPLIT_KEY_PURPOSE),
                ),
                excluded=settings.excluded_networks,
                not_found_url=settings.not_found_url,
                root_url=settings.root_url,
            )
            # Before the first request, which would wait for it (the scan path's rules and
            # the analytics projection both describe agents).
            prepare_parsers()
            background = await stack.enter_async_context(anyio.create_task_group())
            background.start_soon(watch_loop_lag, loop_lag.observer())
            background.start_soon(storage.run_maintenance)
            background.start_soon(_stop_on_failure, system, app)
            door = door_address(settings.db) if settings.backend == "sqlite" else None
            if door is not None:
                # An import beside this server sends its visits in here (see the module).
                await background.start(
                    serve_door,
                    door,
                    scans.import_scans,
                    clock.now,
                    door_metrics,
                    functools.partial(live_scans.within, BUSY_SECONDS),
                )
            collector = ClusterCollector(leadership, storage)
            registry.register(collector)
            stack.callback(registry.unregister, collector)
            # Before the features: an instance that can lead starts its followers with them.
            await background.start(leadership.run)
            if storage.shared:
                feed = storage.change_feed(settings.instance_name)
                await background.start(hear_others, feed, system.bus, services.codes.refresh)
            # Codes changed by another process (another instance, or the command line on
            # the same SQLite file, which has no notices) are served after one resync.
            background.start_soon(
                functools.partial(
                    resync_codes,
                    storage.events,
                    codes_position,
                    services.codes.refresh,
                    interval=resync_interval(shared=storage.shared),
                )
            )
            for feature in installed:
                own = await above_features.spawn_supervisor(
                    f"feature-{feature.name}", FEATURE_SUPERVISOR
                )
                services.features[feature.name] = own
                await feature.start(services, own, stack, background)
            if not await storage.users.list():
                log.warning(FIRST_OWNER_HINT)
            log.info(
                "started",
                db=storage.location,
                instance=settings.instance_name,
                leading=leadership.leading,
                base_url=settings.public_base_url,
            )
            yield
            log.info("stopping")
            await system.shutdown(settings.shutdown_timeout)
            background.cancel_scope.cancel()

    app = ScanletApp(
        routes=build_routes(endpoints),
        middleware=[
            Middleware(RequestContextMiddleware, metrics=http_metrics, tracing=tracing),
            Middleware(RequestLimitsMiddleware),
            Middleware(
                BodyLimitMiddleware,
                limit=settings.max_body_bytes,
                timeout=settings.body_timeout,
            ),
        ],
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
    app.state.endpoints = endpoints
    app.security_headers = security
    # In front of everything, even Starlette's error middleware: live-code scans skip the
    # whole stack (the front catches its own errors).
    app.fast_path = ScanFastPath(app.full_stack, scan_path, http_metrics, tracing, security)
    return app
