"""The baseline: a bare Starlette app that redirects from a dict and records nothing."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

TARGETS = {"bench": "https://example.com/landing"}


async def redirect(request: Request) -> Response:
    """302 to the slug's target, 404 for anything else."""
    target = TARGETS.get(request.path_params["slug"])
    if target is None:
        return PlainTextResponse("not found", status_code=404)
    return Response(status_code=302, headers={"location": target})


async def plain(request: Request) -> Response:
    """The trivial route used to compare ASGI servers."""
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/plain/ok", plain), Route("/{slug}", redirect)])
