"""Serving: run the app under granian or uvicorn in this process, take over a listening socket
from systemd, tune the garbage collector, drain on SIGTERM."""

from scanlet.serving.server import serve

__all__ = ("serve",)
