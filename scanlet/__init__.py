"""Scanlet: self-hosted dynamic QR codes with durable scan recording and analytics."""

__version__ = "0.1.0"

__all__ = ("__version__",)
