"""The design panel of a code's page: print options for its QR image, a live preview, the
downloads in every format, and the code's logo (upload, remove, on or off).

The panel is a GET form whose fields are the QR route's options, except the size, which is
a number and a unit (``size_value``, ``size_unit``): without a script, submitting it draws
the page again with that preview. The page's script (``dashboard.js``) builds the same query
from the same fields as they change, so the preview follows without a reload. Every option
is checked by ``QrOptions``, as the API's are: the panel can offer nothing the API refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.codes.errors import CodeError, InvalidField
from scanlet.adapters.qr_images import FORMATS, QrOptions
from scanlet.http.codes_api import load_code
from scanlet.http.dashboard.links import key_url
from scanlet.http.dashboard.pages import redirect
from scanlet.http.dashboard.session import User
from scanlet.http.errors import code_problem
from scanlet.http.logo_api import store_uploaded_logo
from scanlet.http.problems import Problem, problem_response
from scanlet.http.responses import json_response
from scanlet.http.services import services

__all__ = ("Design", "design_of", "remove_logo", "upload_logo")

UNITS = ("mm", "cm", "in", "px")
SHAPES = ("square", "rounded", "dots")
#: What the panel shows before anything is chosen: the API's defaults, 8 px a module.
DEFAULTS: dict[str, str] = {
    "format": "svg",
    "size_value": "",
    "size_unit": "mm",
    "scale": "8",
    "dpi": "300",
    "border": "4",
    "ecc": "M",
    "shape": "square",
    "dark": "#000000",
    "light": "#ffffff",
    "finder": "#000000",
    "label": "",
    "logo": "",
}
#: Formats a browser shows in an <img>: a PDF or EPS is previewed as its SVG.
_PREVIEWED = ("svg", "png")


@dataclass(frozen=True, slots=True)
class Design:
    """The panel's field values, the QR route's query they make, and why they were refused
    (then ``values`` and ``query`` are the defaults')."""

    values: dict[str, str]
    query: dict[str, str]
    error: str | None = None

    def url(self, base: str, fmt: str, *, download: bool = False) -> str:
        """The QR route's URL for this design in ``fmt``."""
        query = {**self.query, "format": fmt}
        if download:
            query["download"] = "true"
        return f"{base}?{urlencode(query)}"

    def preview(self, base: str) -> str:
        """The preview's URL: the chosen format when a browser can show it, else SVG."""
        fmt = self.values["format"]
        return self.url(base, fmt if fmt in _PREVIEWED else "svg")

    def downloads(self, base: str) -> list[tuple[str, str]]:
        """(format, URL) of a download in every format."""
        return [(fmt, self.url(base, fmt, download=True)) for fmt in FORMATS]


def _query(values: Mapping[str, str], has_logo: bool) -> dict[str, str]:
    query = {
        "format": values["format"],
        "border": values["border"],
        "ecc": values["ecc"],
        "shape": values["shape"],
        "dark": values["dark"],
        "light": values["light"],
        "finder": values["finder"],
    }
    if values["size_value"]:
        query["size"] = values["size_value"] + values["size_unit"]
        if values["size_unit"] != "px":
            query["dpi"] = values["dpi"]
    else:
        query["scale"] = values["scale"]
    if values["label"]:
        query["label"] = values["label"]
    if values["logo"] and has_logo:
        query["logo"] = "true"
    return query


def design_of(params: Mapping[str, str], *, has_logo: bool) -> Design:
    """The panel for the page's query ``params`` (unknown fields ignored, each at most a
    label's length), checked by ``QrOptions``."""
    values = {name: params.get(name, default)[:64].strip() for name, default in DEFAULTS.items()}
    query = _query(values, has_logo)
    try:
        QrOptions.parse(query)
    except InvalidField as exc:
        return Design(dict(DEFAULTS), _query(DEFAULTS, has_logo), f"{exc.field}: {exc.msg}")
    return Design(values, query)


async def upload_logo(request: Request, user: User) -> Response:
    """The panel's logo upload (sent by the page's script, the image as the body): the API's
    checks and the codes actor's command; JSON for the script, problem+json on refusal."""
    try:
        row = await store_uploaded_logo(request, user.principal.author)
    except CodeError as exc:
        return problem_response(code_problem(exc))
    except Problem as exc:
        return problem_response(exc)
    return json_response({"slug": row.slug, "logo": row.logo})


async def remove_logo(request: Request, user: User) -> Response:
    """The panel's "Remove logo" form: back to the code's page."""
    svc = services(request)
    row = await load_code(svc, request.path_params["slug"])
    if row.logo is not None:
        await svc.codes.set_logo(row.slug, None, user.principal.author)
    return redirect(key_url(row.slug, done="logo-removed") + "#design")
