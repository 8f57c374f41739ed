"""The domains page (admins): the registered domains, a form to add one, a button to remove
one. Changes go to the codes actor as the API's do (``CreateDomain``), so the same rules
refuse the same hosts; a refusal is shown next to its field."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.codes.domain_messages import CreateDomain
from scanlet.actors.codes.errors import CodeError, DomainTaken, InvalidField
from scanlet.http.dashboard.pages import redirect, render
from scanlet.http.dashboard.session import User
from scanlet.http.services import services

__all__ = ("add_domain", "domains_page", "remove_domain")

_FIELDS = ("host", "base_url", "not_found_url", "root_url")
NOTICES = {
    "added": "The domain was added: point its DNS at this server.",
    "removed": "The domain was removed.",
}


async def _page(
    request: Request,
    user: User,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    svc = services(request)
    rows = await svc.storage.domains.all()
    return render(
        request,
        "domains.html",
        422 if errors else 200,
        user=user,
        title="Domains",
        domains=[(row, svc.index.live_on(row.host)) for row in rows],
        default_host=svc.index.domains.default_host,
        values=values or dict.fromkeys(_FIELDS, ""),
        errors=errors or {},
        notice=NOTICES.get(request.query_params.get("done", "")),
    )


async def domains_page(request: Request, user: User) -> Response:
    """The domains and the form to add one."""
    return await _page(request, user)


async def add_domain(request: Request, user: User) -> Response:
    """Register the posted domain, or show the form again with the error."""
    form: dict[str, str] = request.state.form
    values = {name: form.get(name, "").strip() for name in _FIELDS}
    try:
        command = CreateDomain(
            host=values["host"],
            base_url=values["base_url"] or None,
            not_found_url=values["not_found_url"] or None,
            root_url=values["root_url"] or None,
        )
        await services(request).codes.create_domain(command, user.principal.author)
    except InvalidField as refusal:
        field = refusal.field if refusal.field in _FIELDS else "host"
        return await _page(request, user, values, {field: refusal.msg})
    except DomainTaken:
        errors = {"host": "is registered already, or is the default domain"}
        return await _page(request, user, values, errors)
    return redirect("/dashboard/domains?done=added")


async def remove_domain(request: Request, user: User) -> Response:
    """Remove a domain (refused, with the reason, while it has codes)."""
    try:
        await services(request).codes.delete_domain(
            request.path_params["host"], user.principal.author
        )
    except CodeError as refusal:
        return await _page(request, user, errors={"_form": str(refusal)})
    return redirect("/dashboard/domains?done=removed")
