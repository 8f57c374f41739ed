"""The web dashboard: codes, QR images and scans in a browser, served by Scanlet itself."""

from scanlet.http.dashboard.feature import DashboardFeature

__all__ = ("DashboardFeature",)
