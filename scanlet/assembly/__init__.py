"""The composition root: the app, its supervision tree and its features, assembled.

Above ``http`` and ``actors``, below the entry points (``cli``, ``serving``): nothing else
imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scanlet.assembly.app import create_app, default_features
    from scanlet.assembly.features import Feature

__all__ = ("Feature", "create_app", "default_features")


def __getattr__(name: str) -> object:
    # Imported on first use: a process that needs one part of the composition root (the
    # projection worker) does not import the whole app (0.9 s of CPU here).
    if name in ("create_app", "default_features"):
        from scanlet.assembly import app

        return getattr(app, name)
    if name == "Feature":
        from scanlet.assembly.features import Feature

        return Feature
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
