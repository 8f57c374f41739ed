"""API conformance: schemathesis drives the app in-process from its own /openapi.json.

Every phase (examples, coverage, fuzzing, and the stateful phase, which chains calls through
the document's links) with a fixed seed and every check: no response may be a server error
or contradict the schema (status, content type, headers, body), schema-valid requests must
be accepted and invalid ones refused. The few rules no JSON Schema can state are listed in
``INEXPRESSIBLE``, each with its reason. Afterwards the server must still be up: no actor
failed, every actor running, /readyz 200.

The lifespan runs (schemathesis' ASGI transport starts it) and an admin key is injected.
Webhook targets may be private addresses here, because generated hosts resolve nowhere (the
SSRF guard has its own tests), and deliveries go to a recording sender, never the network.
"""

import asyncio
import atexit
import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import hypothesis
import msgspec
import pytest
import schemathesis
from argon2 import PasswordHasher, Type
from hypothesis.errors import FlakyStrategyDefinition
from prometheus_client import CollectorRegistry
from schemathesis.config import SchemathesisConfig
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.python import asgi
from schemathesis.transport.asgi import ASGI_TRANSPORT
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from scanlet.actors.access.keys import ApiKeys
from scanlet.actors.access.keys import Scope as KeyScope
from scanlet.actors.access.passwords import Passwords
from scanlet.actors.codes import passwords as code_passwords
from scanlet.actors.codes.kinds import CONTENT_TYPES, NO_REDIRECT_FIELDS, NO_SCAN_FIELDS
from scanlet.actors.codes.validation import SLUG_PATTERN
from scanlet.assembly import create_app
from scanlet.assembly.analytics import AnalyticsFeature
from scanlet.assembly.dashboard import DashboardFeature
from scanlet.assembly.features import Feature
from scanlet.assembly.integrations import IntegrationsFeature
from scanlet.config import load_settings
from scanlet.storage.sqlite.database import open_database
from scanlet.storage.sqlite.keys import KeyStore
from tests.actors.webhooks.harness import ScriptedSender

CHEAP_ARGON2 = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
SEED = 20260101
#: Every field some kind's content has.
CONTENT_FIELDS = sorted(
    {name for type_ in CONTENT_TYPES.values() for name in type_.__struct_fields__}
)
MAX_EXAMPLES = 12
STATEFUL_SCENARIOS = 30
STATEFUL_STEPS = 10

# Rules that relate a request's values to each other, to what the server made or to how it
# is configured, which no JSON Schema can state: a schema-valid request refused by one of
# them (a 422 naming this field, with a message starting so) is the documented answer, not a
# conformance failure. Any other refusal of schema-valid data still fails the run.
INEXPRESSIBLE = [
    # A cursor is opaque: valid only if this server made it.
    (("query", "cursor"), "the cursor is not valid"),
    # from comes before to (given, or to's default: now).
    (("query", "from"), "must be before to"),
    # A stats range holds at most 10,000 buckets: from, to and interval together decide.
    (("query", "interval"), "the range needs more than"),
    # A QR code's dark and light colours differ, or it cannot be read.
    (("query", "dark"), "must differ from light"),
    # The QR print options relate to each other and to the drawing (README, "QR images"):
    # scale or size, not both; physical limits per unit; a PNG at most 4096 pixels wide.
    (("query", "scale"), "give either scale or size"),
    (("query", "size"), "must be from"),
    (("query", "size"), "the PNG would be"),
    (("query", "scale"), "the PNG would be"),
    # The finder differs from light; a label frame needs a label; labels are set in the
    # bundled font, left to right, and must fit the code's width.
    (("query", "finder"), "must differ from light"),
    (("query", "label"), "is required with frame=label"),
    (("query", "label"), "must not contain"),
    (("query", "label"), "has a character the label font"),
    (("query", "label"), "is longer than the code is wide"),
    # Every image is decoded before it is sent: too little contrast, light-on-dark, or a
    # drawing that did not scan is refused, naming the option to blame.
    (("query", "dark"), "has too little contrast"),
    (("query", "dark"), "is not darker than light"),
    (("query", "finder"), "has too little contrast"),
    (("query", "finder"), "is not darker than light"),
    (("query", "shape"), "did not scan"),
    (("query", "scale"), "did not scan"),
    (("query", "size"), "did not scan"),
    # A logo is drawn only for a code that has one (PUT /api/v1/codes/{slug}/logo).
    (("query", "logo"), "this code has no logo"),
    # valid_until comes after valid_from (on a PATCH, also after the stored one).
    (("body", "valid_until"), "must be later than valid_from"),
    # No code may redirect to this server's own origin (configuration; hosts compared as
    # browsers compare them). The stateful phase finds the origin in the codes' short_url.
    (("body", "target"), "must not point at this server"),
    # The same for the routing's URLs (a rule's or an arm's, whatever its index).
    (("body", "fallback_url"), "must not point at this server"),
    (("body", "rules", "target"), "must not point at this server"),
    (("body", "split", "target"), "must not point at this server"),
    # A Wi-Fi network's name is at most 32 bytes (802.11): JSON Schema counts characters.
    (("body", "content", "ssid"), "must be at most 32 bytes"),
    (("body", "codes", "content", "ssid"), "must be at most 32 bytes"),
    # The whole payload of a code that is not a link must fit a QR code, in UTF-8 bytes.
    (("body", "content"), "is too long for a QR code"),
    (("body", "codes", "content"), "is too long for a QR code"),
    # A change fits the kind of the code it changes, which the server made (the create body
    # chose it): content of another kind lacks a field of this one or has a field it has not;
    # a url code has no content; no code changes kind; a code that is not a link has no
    # target or routing, a static one no scans to limit and no switch.
    *((("body", "content", name), "Object contains unknown field") for name in CONTENT_FIELDS),
    *((("body", "content", name), "Object missing required field") for name in CONTENT_FIELDS),
    (("body", "content"), "a url code has no content"),
    (("body", "kind"), "cannot change"),
    (("body", "tracked"), "cannot change"),
    *((("body", name), "must be left out") for name in NO_REDIRECT_FIELDS + NO_SCAN_FIELDS),
    (("body", "enabled"), "a static"),
    # A code's domain is one an admin registered (or the default one); ?domain= likewise.
    (("body", "domain"), "no domain"),
    (("query", "domain"), "no domain"),
    # So is each host of a user's domain limit.
    (("body", "domains"), "no domain"),
    # A domain's base URL is an origin on the domain's own host.
    (("body", "base_url"), "must be on the domain's own host"),
    (("body", "base_url"), "must be an origin"),
]
# JSON Schema counts 10.0 as the integer 10; the API reads integers written as integers.
WRITTEN_AS_A_FLOAT = "got `float`"
# schemathesis' statuses for a refused invalid request, plus the size limits, which refuse
# a request before any value is read: a body over 1 MiB (413), a URL over 8 KiB (414),
# headers past 16 KiB (431).
REJECTIONS = [
    *("400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5xx"),
    *("413", "414", "431"),
]
# schemathesis' statuses for an accepted valid request, plus 410 for a scan: it answers for
# the code, not the request (deleted, disabled, expired or used up).
SCAN_ANSWERS = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx", "410"]


class OneLifespan:
    """Runs the app's lifespan once for the whole module.

    schemathesis ends an ASGI app's lifespan after each test item and starts it again for
    the next; Scanlet's lifespan is built to run once per process (features register their
    metrics as they start). This wrapper starts the real lifespan in its own task on the first
    startup, answers the later startup/shutdown pairs at once, and stops it at module end.
    """

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.runner: asyncio.Task[None] | None = None
        self.started = asyncio.Event()
        self.stop = asyncio.Event()

    async def _run(self) -> None:
        async with self.app.router.lifespan_context(self.app):
            self.started.set()
            await self.stop.wait()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.runner is None:
                    self.runner = asyncio.get_running_loop().create_task(self._run())
                await self.started.wait()
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def close(self) -> None:
        """Stop the real lifespan (drain the actors, close the database)."""
        self.stop.set()
        if self.runner is not None:
            await self.runner


async def _mint(db: Path) -> str:
    async with open_database(db) as database:
        created = await ApiKeys(KeyStore(database)).create(
            "schemathesis", KeyScope.ADMIN, now=datetime.now(UTC)
        )
    return str(created.token)


def _load() -> Any:
    # Module level, as schemathesis' parametrize needs the schema at collection time.
    folder = Path(tempfile.mkdtemp(prefix="scanlet-conformance-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    db = folder / "scanlet.db"
    token = anyio.run(_mint, db)
    settings = load_settings(
        {
            "SCANLET_DB": str(db),
            "SCANLET_BASE_URL": "http://testserver",
            # GET / answers a redirect (without it, 404: no request could succeed there).
            "SCANLET_ROOT_URL": "https://example.com/",
            # Fuzzing asks for many unknown slugs; the limiter is tested on its own.
            "SCANLET_NOTFOUND_LIMIT": "100000/second",
            # Generated webhook hosts resolve nowhere; with private targets allowed nothing
            # is resolved at registration (tests/actors/webhooks/test_ssrf.py covers the guard).
            "SCANLET_WEBHOOK_ALLOW_PRIVATE": "true",
        },
        isatty=False,
    )
    features: list[Feature] = [
        AnalyticsFeature(),
        IntegrationsFeature(sender=_sender),
        DashboardFeature(),
    ]
    # Passwords are hashed at argon2's lowest costs here: a code's or an account's password
    # in a generated body cost a full hash each (on PATCH of a code, hundreds of them: over
    # a minute of CI), and the costs are not what conformance checks (tests/actors/access
    # and tests/actors/codes test the real ones).
    app = OneLifespan(
        create_app(
            settings,
            registry=CollectorRegistry(),
            features=features,
            passwords=Passwords.cheap(),
        )
    )
    _apps.append(app)
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            # The key goes in through the schema's own security scheme, so the auth checks
            # know it is the real one and probe without it and with a wrong one.
            "auth": {"openapi": {"bearer": {"bearer": token}}},
            "request-timeout": 5,
            "generation": {"max-examples": MAX_EXAMPLES},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                # Run by test_linked_calls_conform_to_the_schema below.
                "stateful": {"enabled": True, "max-steps": STATEFUL_STEPS},
            },
            "checks": {
                "enabled": True,
                "negative_data_rejection": {"expected-statuses": REJECTIONS},
            },
            "operations": [
                {
                    # Device batches judge each event on its own: a malformed event is
                    # "rejected" inside a 200, by design (CONTRACT.md), so the batch goes on.
                    "include-path": "/api/v1/events",
                    "checks": {"negative_data_rejection": {"enabled": False}},
                },
                {
                    # The same for code batches: each item is created or refused on its own.
                    # And generated requests reuse their Idempotency-Key with other bodies,
                    # which is refused with 422 by design (the IETF idempotency-key draft).
                    "include-path": "/api/v1/codes/batch",
                    "checks": {
                        "negative_data_rejection": {"enabled": False},
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "401", "403", "409", "422", "429", "5xx"]
                        },
                    },
                },
                {
                    # An archive draws and decodes an image of each code it takes (narrowed
                    # to one by _narrow_the_archive, or a few): seconds on a loaded machine.
                    "include-path": "/api/v1/qr-archive",
                    "request-timeout": 30,
                },
                {
                    # A logo's body is an image of its Content-Type: whether its bytes decode
                    # as that format, and its pixel counts, are beyond JSON Schema; a
                    # schema-valid upload that is not a usable image is refused with 422.
                    # An empty body is no image at all: 400, like any malformed request.
                    "include-name": ["PUT /api/v1/codes/{slug}/logo"],
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "400", "401", "403", "404", "422", "5xx"]
                        }
                    },
                },
                {
                    # A new code has no logo until one is uploaded: its logo routes answer
                    # 404 "has no logo" right after the code is created, as documented.
                    "include-path-regex": "^/api/v1/codes/\\{slug\\}/logo$",
                    "checks": {"ensure_resource_availability": {"enabled": False}},
                },
                {
                    # A stream never ends: what it sent in half a second is what is checked
                    # (schemathesis keeps the complete events when the deadline cuts it).
                    "include-path": "/api/v1/stream",
                    "request-timeout": 0.5,
                },
                {
                    # A deleted code's scans stay in the log (CONTRACT.md), so its raw scans
                    # and stats stay readable, and so does its history, which ends with the
                    # deletion (who deleted it, and when): not a deleted resource still served.
                    "include-path-regex": "^/api/v1/codes/\\{slug\\}/(scans|stats|history)$",
                    "checks": {"use_after_free": {"enabled": False}},
                },
                {
                    # The two scan entrances: a code that is gone answers 410 (SCAN_ANSWERS).
                    "include-name": ["GET /{slug}", "GET /q/{slug}", "GET /Q/{slug}"],
                    "checks": {"positive_data_acceptance": {"expected-statuses": SCAN_ANSWERS}},
                },
                {
                    # A password posted to a code without one is a 405, as documented (the
                    # run aims every fourth scan at a code it made: none has a password).
                    # (Names: filters of one entry are alternatives, a method with a path
                    # would take every POST.)
                    "include-name": ["POST /{slug}", "POST /q/{slug}", "POST /Q/{slug}"],
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": [*SCAN_ANSWERS, "405"]}
                    },
                },
            ],
        }
    )
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    loaded.hook("filter_failure")(_refused_for_an_inexpressible_rule)
    loaded.hook("after_call")(_note_success)
    # before_call hooks are global in schemathesis; this module is its only user.
    schemathesis.hook("before_call")(_aim_at_live_resources)
    return loaded


# The API takes no XML bodies; schemathesis' XML serializer would claim image/svg+xml (a
# ``+xml`` type) before the one below and wrap the SVG example in an element named after the
# schema, so no logo upload could ever succeed.
ASGI_TRANSPORT.unregister_serializer("application/xml", "text/xml")


@schemathesis.serializer("image/svg+xml")
def _svg_as_sent(context: Any, value: Any) -> bytes:
    """An SVG logo is sent as the document itself."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return msgspec.json.encode(value)  # generated non-text: refused as no SVG (422)


def _note_success(context: Any, case: Any, response: Any) -> None:
    operation = f"{case.method.upper()} {case.operation.path}"
    if response.status_code < 400:
        _succeeded.add(operation)
    if response.status_code == 201 and operation in CREATED:
        kind, field = CREATED[operation]
        created = msgspec.json.decode(response.content)
        if kind == "code" and created.get("domain") != DEFAULT_HOST:
            # A code on a registered domain (the domains' example host): the aimed calls
            # name codes of the default domain, which every aimed route reaches by slug
            # alone (the scan entrances by the test client's Host).
            return
        _live[kind].append(created[field])
        # Scans reach only links and tracked cards (a static code's slug answers 404): the
        # scan entrances aim at those.
        if kind == "code" and created.get("tracked"):
            _live["link"].append(created[field])
    elif response.status_code == 204 and operation in DELETED:
        kind, param = DELETED[operation]
        for listed in (kind, "link") if kind == "code" else (kind,):
            with contextlib.suppress(ValueError):
                _live[listed].remove(case.path_parameters[param])


def _aim_at_live_resources(context: Any, case: Any, **kwargs: Any) -> None:
    """Send every fourth call of the scan entrances, the QR image, a webhook (and its
    deliveries) and a user whose generated id is well-formed to a code, webhook or user the
    run created (and has not deleted).

    Otherwise a generated id names a live resource only when the stateful phase happens to
    follow the right link right after a successful create, a few times in 300 steps, and
    whether those routes ever answered with success hung on the seed's luck: a change to
    any other operation's parameters moved it.
    """
    if case.operation.path == ARCHIVE:
        _narrow_the_archive(case)
        return
    aim = AIMED.get(case.operation.path)
    if aim is None:
        return
    kind, param, valid = aim
    current = case.path_parameters.get(param) if case.path_parameters else None
    if not _live[kind] or not isinstance(current, str) or not valid.fullmatch(current):
        return  # a negative case stays negative
    if case.operation.path == "/api/v1/codes/{slug}" and case.method.upper() == "DELETE":
        # The oldest live code, never the newest: that one may be a linked scenario's, or
        # what the other aimed calls name. Left to the links alone, whether any delete of
        # a code succeeded hung on every earlier answer (a projection's timing included).
        _aimed["delete"] += 1
        if len(_live[kind]) >= 2 and _aimed["delete"] % 4 == 0:
            case.path_parameters = {**case.path_parameters, param: _live[kind][0]}
        return
    _aimed[kind] += 1
    if _aimed[kind] % 4 == 0 or case.operation.path in ALWAYS_AIMED:
        case.path_parameters = {**case.path_parameters, param: _live[kind][-1]}
        if kind == "code" and case.query:
            # The run's codes live on the default domain: a generated ?domain= names none.
            case.query = {name: value for name, value in case.query.items() if name != "domain"}


def _narrow_the_archive(case: Any) -> None:
    """Send an archive request that would take every code (no search, or an empty one) to
    the newest live code's slug as its search.

    By the archive's turn the run has made hundreds of codes (the batch endpoint alone is
    called hundreds of times), and every accepted request drew and decoded an image of each:
    over two minutes of CI for the same statuses, headers and content types. Drawing many
    images is tested in tests/http (archives of every format, tag and option).
    """
    query = case.query if isinstance(case.query, dict) else None
    if not _live["code"] or (query is not None and query.get("q") not in (None, "")):
        return
    case.query = {**(query or {}), "q": _live["code"][-1]}


def _refused_for_an_inexpressible_rule(
    context: Any, failure: Any, case: Any, response: Any
) -> bool:
    """Keep every failure but a 422 for a rule listed in INEXPRESSIBLE (and note it)."""
    keep = _keeps(failure, response)
    if keep:
        _kept_failures.append(f"{case.method} {case.operation.path}: {failure.title}")
    return keep


def _keeps(failure: Any, response: Any) -> bool:
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 422:
        return True
    try:
        problem = msgspec.json.decode(response.content)
        (error,) = problem["errors"]
        loc, msg = tuple(error["loc"]), error["msg"]
    except (msgspec.DecodeError, KeyError, TypeError, ValueError):
        return True
    if loc[0] == "body" and msg.startswith("Expected `int") and msg.endswith(WRITTEN_AS_A_FLOAT):
        return False
    # A list item's index does not change the rule (rules[3].target is rules' target).
    named = tuple(part for part in loc if not isinstance(part, int))
    return not any(named == where and msg.startswith(start) for where, start in INEXPRESSIBLE)


_sender = ScriptedSender(lambda outgoing: 204)
_apps: list[OneLifespan] = []
#: Every operation that answered a generated request with success (2xx, 3xx).
_succeeded: set[str] = set()
#: Every failure of a check that the run kept (each fails its test).
_kept_failures: list[str] = []
#: Codes and webhooks created by the run and not deleted since (see _aim_at_live_resources).
_live: dict[str, list[str]] = {"code": [], "link": [], "webhook": [], "user": []}
#: The host of the run's base URL: the default domain, whose codes the aimed calls name.
DEFAULT_HOST = "testserver"
_aimed: dict[str, int] = {"code": 0, "link": 0, "webhook": 0, "user": 0, "delete": 0}
CREATED = {
    "POST /api/v1/codes": ("code", "slug"),
    "POST /api/v1/webhooks": ("webhook", "id"),
    "POST /api/v1/users": ("user", "id"),
}
DELETED = {
    "DELETE /api/v1/codes/{slug}": ("code", "slug"),
    "DELETE /api/v1/webhooks/{id}": ("webhook", "id"),
    "DELETE /api/v1/users/{id}": ("user", "id"),
}
_SLUG = re.compile(SLUG_PATTERN)
ARCHIVE = "/api/v1/qr-archive"
AIMED = {
    "/{slug}": ("link", "slug", _SLUG),
    "/q/{slug}": ("link", "slug", _SLUG),
    "/Q/{slug}": ("link", "slug", _SLUG),
    # The QR image has many parameters whose combinations the server may refuse (contrast,
    # label font, size or scale): it needs a real slug on the few requests that pass.
    "/api/v1/codes/{slug}/qr": ("code", "slug", _SLUG),
    # A logo is read or removed only where one was uploaded (the example SVG, on a live code).
    "/api/v1/codes/{slug}/logo": ("code", "slug", _SLUG),
    # One code (GET, PATCH; DELETE at the oldest live code, see _aim_at_live_resources): a
    # generated slug names none. (A domain's routes are reached through their example host
    # and the links of a new domain.)
    "/api/v1/codes/{slug}": ("code", "slug", _SLUG),
    "/api/v1/webhooks/{id}/deliveries": ("webhook", "id", re.compile(r"[^/]+")),
    # One webhook or user by id (GET, PATCH, DELETE): a generated id names none.
    "/api/v1/webhooks/{id}": ("webhook", "id", re.compile(r"[^/]+")),
    "/api/v1/users/{id}": ("user", "id", re.compile(r"[^/]+")),
}
#: Routes aimed at a live code on every well-formed call: the logo is uploaded (the
#: document's example SVG, in the examples phase), read and removed on the same code, the
#: last one created (these operations run after every code the run creates).
ALWAYS_AIMED = {"/api/v1/codes/{slug}/logo"}
schema = _load()


@pytest.fixture(scope="module", autouse=True)
def _cheap_code_passwords() -> Iterator[None]:
    """Codes' passwords at argon2's lowest costs while this module runs (see _load)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(code_passwords, "_hasher", CHEAP_ARGON2)
        yield


# Session-scoped: under pytest-xdist a worker may finish its queue in the middle of this
# module and tear module fixtures down before the rest arrives; the app (one lifespan per
# process) must stay up until the whole run ends.
@pytest.fixture(scope="session", autouse=True)
def _stop_the_app() -> Iterator[None]:
    yield
    asgi.shutdown_lifespans()
    for app in _apps:
        asgi._get_portal().call(app.close)


@schema.parametrize()  # type: ignore[untyped-decorator]  # schemathesis types it loosely
def test_every_operation_conforms_to_the_schema(case: Any) -> None:
    case.call_and_validate()


class LinkedCalls(schema.as_state_machine()):  # type: ignore[misc]  # built at runtime
    """Scenarios of calls chained through the document's links (the stateful phase)."""

    started = 0

    def setup(self) -> None:
        type(self).started += 1
        super().setup()


def test_linked_calls_conform_to_the_schema() -> None:
    # Scenarios run against one live server whose data grows as they go, so a scenario that
    # starts like an earlier one can find other ids to follow; Hypothesis then reports that
    # its data generation "behaved differently" and ends the suite. schemathesis' own runner
    # treats that as the end of a suite and starts another with a fresh seed; so does this.
    # A failed check is never lost that way: filter_failure notes every kept failure.
    settings = hypothesis.settings(
        stateful_step_count=STATEFUL_STEPS,
        deadline=None,
        database=None,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    failures_before = len(_kept_failures)
    for suite in range(STATEFUL_SCENARIOS):
        left = STATEFUL_SCENARIOS - LinkedCalls.started
        if left <= 0:
            break
        machine = hypothesis.seed(SEED + suite)(LinkedCalls)
        with contextlib.suppress(FlakyStrategyDefinition):
            machine.run(settings=hypothesis.settings(settings, max_examples=left))
    assert LinkedCalls.started >= STATEFUL_SCENARIOS
    assert _kept_failures[failures_before:] == []


def test_every_operation_accepted_some_generated_request() -> None:
    # The run is only as good as what gets past validation: with a schema looser than the
    # server, generated requests are all refused, and without links no id is ever real, so
    # whole routes go untested past their 422 or 404. Runs after the phases above.
    documented = {
        f"{method.upper()} {path}"
        for path, methods in schema.raw_schema["paths"].items()
        for method in methods
    }
    # schemathesis reads the document from /openapi.json and leaves that route untested.
    # A protected code's password cannot be generated (that is its point): the right one is
    # tested in tests/http/routing/test_password.py.
    unguessable = {"POST /{slug}", "POST /q/{slug}", "POST /Q/{slug}"}
    assert documented - _succeeded == {"GET /openapi.json", *unguessable}


def test_the_server_stays_up_after_the_fuzzing() -> None:
    # Runs last in this module: everything above has hit the app by now.
    (app,) = _apps
    svc = app.app.state.services
    assert getattr(app.app.state, "fatal", None) is None
    assert svc.system.failure is None
    health = svc.system.health()
    assert health, "no actors at all"
    assert all(state == "running" for state in health.values()), health
    case = schema["/readyz"]["GET"].Case()
    response = case.call()
    assert response.status_code == 200, response.text
