"""The dashboard feature: its routes, and its sessions and form tokens set up at start-up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

from anyio.abc import TaskGroup
from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.access.lockout import LOCKOUT_PURPOSE, SignInLockout
from scanlet.http.dashboard import (
    auth_views,
    code_views,
    design,
    domain_views,
    exclude_views,
    live,
    overview,
)
from scanlet.http.dashboard.pages import Page, guarded, public
from scanlet.http.dashboard.session import (
    SESSION_IDLE,
    SESSION_MAX_AGE,
    DashboardAuth,
    FormTokens,
)
from scanlet.http.endpoint import Endpoint
from scanlet.http.services import Services
from scanlet.runtime import SupervisorRef

__all__ = ("DashboardFeature",)

Handler = Callable[[Request], Awaitable[Response]]


def _page(method: str, path: str, handler: Handler, summary: str) -> Endpoint:
    # Pages are HTML for people, not part of the API's description; they check the session
    # themselves (Endpoint's scope is the API's bearer-key check).
    return Endpoint(method, path, handler, summary, "dashboard", include_in_schema=False)


class DashboardFeature:
    """The web dashboard under ``/dashboard``."""

    name = "dashboard"

    def endpoints(self) -> list[Endpoint]:
        """Every dashboard route; the catch-all for unknown paths comes last."""
        g = guarded

        def w(page: Page) -> Handler:
            return guarded(page, write=True)

        def a(page: Page) -> Handler:
            return guarded(page, admin=True)

        one = "/dashboard/codes/{slug}"
        return [
            _page("GET", "/dashboard", g(overview.overview), "Overview"),
            _page("GET", "/dashboard/sign-in", public(auth_views.sign_in_form), "Sign-in form"),
            _page("POST", "/dashboard/sign-in", public(auth_views.sign_in), "Sign in"),
            _page("POST", "/dashboard/sign-out", g(auth_views.sign_out), "Sign out"),
            _page("GET", "/dashboard/exclude-me", g(exclude_views.exclude_me_form), "Own scans"),
            _page("POST", "/dashboard/exclude-me", g(exclude_views.exclude_me), "Exclude me"),
            _page("GET", "/dashboard/codes", g(code_views.codes_list), "Codes"),
            _page("GET", "/dashboard/codes.csv", g(code_views.codes_csv_download), "Codes CSV"),
            _page("GET", "/dashboard/new", w(code_views.new_code_form), "New-code form"),
            _page("POST", "/dashboard/new", w(code_views.create_code), "Create a code"),
            _page("GET", one, g(code_views.code_page), "A code's page"),
            _page("GET", f"{one}/edit", w(code_views.edit_form), "Edit form"),
            _page("POST", f"{one}/edit", w(code_views.edit_code), "Save a code"),
            _page("POST", f"{one}/enabled", w(code_views.set_enabled), "Enable or disable"),
            _page("GET", f"{one}/delete", w(code_views.delete_form), "Confirm deletion"),
            _page("POST", f"{one}/delete", w(code_views.delete_code), "Delete a code"),
            _page("GET", f"{one}/qr", guarded(live.dashboard_qr, resource=True), "QR image"),
            _page("GET", "/dashboard/domains", a(domain_views.domains_page), "Domains"),
            _page("POST", "/dashboard/domains", a(domain_views.add_domain), "Add a domain"),
            _page(
                "POST",
                "/dashboard/domains/{host}/delete",
                a(domain_views.remove_domain),
                "Remove a domain",
            ),
            _page(
                "POST",
                f"{one}/logo",
                guarded(design.upload_logo, write=True, raw_body=True),
                "Upload a logo",
            ),
            _page("POST", f"{one}/logo/delete", w(design.remove_logo), "Remove the logo"),
            _page(
                "GET", "/dashboard/stream", guarded(live.dashboard_stream, resource=True), "Live"
            ),
            _page("GET", "/dashboard/static/{name}", public(live.static), "Static file"),
            _page("GET", "/dashboard/{rest:path}", public(live.not_found), "Not found"),
            _page("POST", "/dashboard/{rest:path}", public(live.not_found), "Not found"),
        ]

    async def start(
        self,
        services: Services,
        supervisor: SupervisorRef,
        stack: AsyncExitStack,
        tasks: TaskGroup,
    ) -> None:
        """Sessions and failed sign-ins in the database; form tokens and the lockout's
        digests keyed from the server key file."""
        sessions = services.storage.sessions(max_age=SESSION_MAX_AGE, idle=SESSION_IDLE)
        forms = FormTokens.from_server_key(services.server_key)
        lockout = SignInLockout(
            services.storage.sign_in_failures, services.server_key.derive(LOCKOUT_PURPOSE)
        )
        services.dashboard = DashboardAuth(sessions, forms, lockout)
