"""Code pages: the list, one code's page, and the forms that create, change and delete.

Reads go through the read models the API uses (``storage.codes``, ``storage.scans``, the raw-scan
store, ``compute_stats``); changes go to the codes actor through ``services.codes``, so the
dashboard and the API can never disagree about the rules.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.access.roles import DEFAULT_DOMAIN, Principal
from scanlet.actors.codes.code import Code
from scanlet.actors.codes.domain_index import DomainIndex
from scanlet.actors.codes.domains import MAX_HOST_LENGTH
from scanlet.actors.codes.errors import CodeError, InvalidField
from scanlet.actors.codes.keys import domain_of_key
from scanlet.actors.codes.messages import CodeChanges
from scanlet.http.code_address import query_domain
from scanlet.http.codes_api import load_code
from scanlet.http.codes_bulk_api import codes_csv
from scanlet.http.dashboard.charts import series_chart
from scanlet.http.dashboard.code_forms import (
    changes_from,
    create_from,
    field_errors,
    values_from,
)
from scanlet.http.dashboard.design import SHAPES, UNITS, design_of
from scanlet.http.dashboard.figures import (
    BREAKDOWNS,
    INTERVAL_LABELS,
    RANGES,
    breakdown_rows,
    load_stats,
    selection,
)
from scanlet.http.dashboard.kind_form import KIND_FIELDS, content_values
from scanlet.http.dashboard.links import code_url, key_url
from scanlet.http.dashboard.pages import redirect, render
from scanlet.http.dashboard.routing_form import CHOICES, form_rows, routing_changes, routing_values
from scanlet.http.dashboard.session import User
from scanlet.http.history_api import code_history
from scanlet.http.params import query_str
from scanlet.http.resources import code_resource, qr_links
from scanlet.http.scans_api import raw_scans
from scanlet.http.scoping import check_code_tags, check_new_code, code_limit
from scanlet.http.services import services
from scanlet.storage.records import RawScanQuery

__all__ = (
    "code_page",
    "codes_csv_download",
    "codes_list",
    "create_code",
    "delete_code",
    "delete_form",
    "edit_code",
    "edit_form",
    "new_code_form",
    "set_enabled",
)

PAGE_SIZE = 25
LATEST_SCANS = 10
#: Changes shown in a code page's History section (the API pages through all of them).
HISTORY_SHOWN = 20
NOTICES = {
    "created": "The code was created.",
    "updated": "The code was saved.",
    "deleted": "The code was deleted.",
    "enabled": "The code is enabled: scans redirect again.",
    "disabled": "The code is disabled: scans answer 410 Gone.",
    "logo-removed": "The logo was removed.",
}


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("done", ""))


async def codes_list(request: Request, user: User) -> Response:
    """Codes, newest first, with search, a tag filter and pages."""
    svc = services(request)
    q = query_str(request, "q", max_length=256) or None
    tag = query_str(request, "tag", max_length=64) or None
    cursor = query_str(request, "cursor", max_length=512) or None
    # "" (the select's "any") is no filter; the default domain is filtered by its host.
    domain = query_str(request, "domain", max_length=MAX_HOST_LENGTH + 1) or None
    host = None if domain is None else (query_domain(request) or "")
    page = await svc.storage.codes.page(
        limit=PAGE_SIZE,
        cursor=cursor,
        tag=tag,
        q=q,
        domain=host,
        **code_limit(user.principal).page(),
    )
    counts = await svc.storage.scans.counts_for(row.slug for row in page.items)
    links = qr_links(svc)
    # Each with its key, which its links name it by (key_url: ?domain= off the default).
    codes = [(code_resource(row, links, counts.get(row.slug, 0)), row.slug) for row in page.items]
    filters = {k: v for k, v in (("q", q), ("tag", tag), ("domain", domain)) if v}
    next_url = (
        f"/dashboard/codes?{urlencode({**filters, 'cursor': page.next_cursor})}"
        if page.next_cursor
        else None
    )
    return render(
        request,
        "codes.html",
        user=user,
        title="Codes",
        codes=codes,
        q=q or "",
        tag=tag or "",
        domain=domain or "",
        domains=_domain_choices(svc.index.domains, user.principal),
        next_url=next_url,
        first_url=f"/dashboard/codes?{urlencode(filters)}" if cursor else None,
        csv_url=f"/dashboard/codes.csv?{urlencode(filters)}" if filters else "/dashboard/codes.csv",
        notice=_notice(request),
    )


async def codes_csv_download(request: Request, user: User) -> Response:
    """Every code the list's filters match, as the API's ``scanlet`` CSV (a download)."""
    q = query_str(request, "q", max_length=256) or None
    tag = query_str(request, "tag", max_length=64) or None
    domain = query_str(request, "domain", max_length=MAX_HOST_LENGTH + 1) or None
    host = None if domain is None else (query_domain(request) or "")
    return codes_csv(services(request), tag, q, code_limit(user.principal), host)


def _domain_choices(domains: DomainIndex, principal: Principal) -> list[str]:
    """The hosts a code may live on, the default first; none while only the default is.
    A principal limited to domains gets only theirs (still registered), whatever their
    number: a form without the choice would make its codes on the default domain."""
    if principal.domains is None:
        return [domains.default_host, *sorted(domains.hosts)] if domains.hosts else []
    hosts = sorted(host for host in principal.domains if host in domains.hosts)
    return [domains.default_host, *hosts] if DEFAULT_DOMAIN in principal.domains else hosts


def _form_page(
    request: Request,
    user: User,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    slug: str | None = None,
    has_password: bool = False,
) -> Response:
    rules, arms = form_rows(values)
    return render(
        request,
        "code_form.html",
        422 if errors else 200,
        user=user,
        title=f"Edit {slug}" if slug else "New code",
        values=values,
        errors=errors or {},
        slug=slug,
        rule_rows=range(rules),
        arm_rows=range(arms),
        choices=CHOICES,
        has_password=has_password,
        kinds=KIND_FIELDS,
        domains=_domain_choices(services(request).index.domains, user.principal),
    )


async def new_code_form(request: Request, user: User) -> Response:
    """The empty new-code form."""
    return _form_page(request, user, values=values_from({}))


async def create_code(request: Request, user: User) -> Response:
    """Create a code from the form, or show the form again with the errors by its fields."""
    values = values_from(request.state.form)
    try:
        command = create_from(values)
        check_new_code(user.principal, command, services(request).index.domains)
        row = await services(request).codes.create(command, user.principal.author)
    except CodeError as refusal:
        errors = field_errors(refusal, values["kind"])
        return _form_page(request, user, values=values, errors=errors)
    return redirect(key_url(row.slug, done="created"))


async def code_page(request: Request, user: User) -> Response:
    """One code: QR image and downloads, short link, chart, breakdowns, latest scans."""
    svc = services(request)
    row = await load_code(svc, request.path_params["slug"])
    chosen = selection(request)
    counts = await svc.storage.scans.counts_for([row.slug])
    code = code_resource(row, qr_links(svc), counts.get(row.slug, 0))
    stats = await load_stats(svc, row.slug, chosen)
    latest = await raw_scans(svc).page(RawScanQuery(slug=row.slug), limit=LATEST_SCANS)
    history = await code_history(svc, row.slug, limit=HISTORY_SHOWN)
    panel = design_of(request.query_params, has_logo=row.logo is not None)
    # The code's domain travels with the QR options (a hidden field of their form).
    qr_base = code_url(code.slug, None, "/qr")
    host = domain_of_key(row.slug)
    if host:
        panel = dataclasses.replace(panel, query={"domain": host, **panel.query})
    return render(
        request,
        "code.html",
        user=user,
        title=row.title or row.slug,
        code=code,
        key=row.slug,
        stats=stats,
        chart=series_chart(
            stats.series,
            interval=chosen.interval,
            tz=chosen.tz,
            title=f"Scans of {row.slug} over time",
            chart_id="code-chart",
        ),
        breakdowns=[(label, breakdown_rows(getattr(stats, name))) for name, label in BREAKDOWNS],
        latest=latest.items,
        history=history.items,
        more_history=history.next_cursor is not None,
        chosen=chosen,
        ranges=RANGES,
        intervals=INTERVAL_LABELS,
        qr=panel.values,
        qr_error=panel.error,
        qr_base=qr_base,
        qr_preview=panel.preview(qr_base),
        qr_downloads=panel.downloads(qr_base),
        units=UNITS,
        shapes=SHAPES,
        notice=_notice(request),
    )


async def edit_form(request: Request, user: User) -> Response:
    """The edit form, filled with the code's current title and tags, and its target and
    routing (a url code) or its content (every other kind)."""
    row = await load_code(services(request), request.path_params["slug"])
    code = Code.from_row(row)
    values = {"title": row.title or "", "tags": ", ".join(row.tags), "slug": row.slug}
    values["kind"] = code.kind
    if code.content is None:
        values.update(target=row.target, **routing_values(code))
    else:
        values.update(content_values(code.kind, code.content))
    return _form_page(
        request, user, values=values, slug=row.slug, has_password=row.password_hash is not None
    )


async def edit_code(request: Request, user: User) -> Response:
    """Save title, tags and the target and routing of a url code or the content of another
    kind, or show the form again with the errors."""
    slug = request.path_params["slug"]
    form: dict[str, str] = request.state.form
    current = await load_code(services(request), slug)
    # The code's own kind, whatever the form says: a kind never changes.
    kind = Code.from_row(current).kind
    # The routing rows as posted (shown again on a refusal), never the password.
    routing = {
        name: value
        for name, value in form.items()
        if kind == "url"
        and (name.startswith(("rule-", "arm-")) or name in ("fallback_url", "forward_query"))
    }
    values = {**values_from(form), "slug": slug, "kind": kind, **routing}
    try:
        changes = changes_from(values)
        if kind == "url":
            changes = msgspec.structs.replace(changes, **routing_changes(form))
        if not isinstance(changes.tags, msgspec.UnsetType):
            check_code_tags(user.principal, changes.tags)
        await services(request).codes.update(slug, changes, user.principal.author)
    except InvalidField as refusal:
        return _form_page(
            request,
            user,
            values=values,
            errors=field_errors(refusal, kind),
            slug=slug,
            has_password=current.password_hash is not None,
        )
    return redirect(key_url(slug, done="updated"))


async def set_enabled(request: Request, user: User) -> Response:
    """Enable or disable a code (``enabled`` = ``true`` or ``false``)."""
    slug = request.path_params["slug"]
    enabled = request.state.form.get("enabled") == "true"
    await services(request).codes.update(slug, CodeChanges(enabled=enabled), user.principal.author)
    return redirect(key_url(slug, done="enabled" if enabled else "disabled"))


async def delete_form(request: Request, user: User) -> Response:
    """Ask before deleting."""
    row = await load_code(services(request), request.path_params["slug"])
    return render(request, "confirm_delete.html", user=user, title=f"Delete {row.slug}", code=row)


async def delete_code(request: Request, user: User) -> Response:
    """Delete the code (its scans stay in the log; its slug is never reused)."""
    await services(request).codes.delete(request.path_params["slug"], user.principal.author)
    return redirect("/dashboard/codes?done=deleted")
