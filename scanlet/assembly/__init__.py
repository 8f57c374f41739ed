"""The composition root: the app, its supervision tree and its features, assembled.

Above ``http`` and ``actors``, below the entry points (``cli``, ``serving``): nothing else
imports it.
"""

from scanlet.assembly.app import create_app, default_features
from scanlet.assembly.features import Feature

__all__ = ("Feature", "create_app", "default_features")
